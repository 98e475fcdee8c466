// A Downstream that records what the pool delivers for one scope, and can
// play a transport's part: return credit for written body bytes, report the
// response done. Holds the scope's Upstream once the test hands it over.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "workers/downstream.hpp"
#include "workers/upstream.hpp"

namespace pagi::fakes {

class FakeDownstream final : public workers::Downstream {
 public:
  // Transport behaviour: when true, body bytes "reach the socket" at once
  // (response_written), and the final body triggers response_done().
  bool auto_write = false;

  std::unique_ptr<workers::Upstream> upstream;

  std::optional<std::uint16_t> status;
  std::vector<std::pair<std::string, std::string>> headers;
  bool trailers_announced = false;
  std::string body;
  int body_events = 0;
  bool body_done = false;
  std::string file;
  std::vector<std::pair<std::string, std::string>> trailers;
  int flushes = 0;
  int credit_calls = 0;
  std::optional<bool> app_done_failed;
  std::vector<workers::UpstreamError> errors;

  void on_response_start(std::uint16_t s, std::span<const workers::HeaderView> h, bool t) override {
    status = s;
    for (const auto& x : h) headers.emplace_back(std::string(x.name), std::string(x.value));
    trailers_announced = t;
  }
  void on_response_body(std::string_view b, bool more) override {
    body.append(b);
    ++body_events;
    body_done = !more;
    if (auto_write && upstream) {
      upstream->response_written(b.size());
      if (!more && !trailers_announced) upstream->response_done();
    }
  }
  void on_response_file(std::string_view path, std::uint64_t, std::int64_t) override {
    file = std::string(path);
    body_done = true;
  }
  void on_response_trailers(std::span<const workers::HeaderView> t) override {
    for (const auto& x : t) trailers.emplace_back(std::string(x.name), std::string(x.value));
  }
  void on_flush() override { ++flushes; }
  void on_request_credit() override { ++credit_calls; }
  void on_app_done(bool failed) override { app_done_failed = failed; }
  void on_upstream_error(workers::UpstreamError e) override { errors.push_back(e); }
};

}  // namespace pagi::fakes
