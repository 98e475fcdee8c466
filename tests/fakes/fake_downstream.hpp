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

#include "protocol/frame_codec.hpp"
#include "workers/downstream.hpp"
#include "workers/upstream.hpp"

namespace pagi::fakes {

class FakeDownstream final : public workers::Downstream {
 public:
  // Transport behaviour: when true, body bytes "reach the socket" at once
  // (response_written), and the final body triggers response_done().
  bool auto_write = false;

  // Keep shared bodies (as a transport queueing them without a copy would)
  // in `held` instead of copying them at once.
  bool hold_shared = false;
  std::vector<protocol::SharedBytes> held;

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
  // websocket / sse events, as the pool delivered them.
  std::optional<std::string> accepted_subprotocol;
  std::vector<std::pair<bool, std::string>> ws_sent;
  std::vector<std::pair<std::uint16_t, std::string>> ws_closes;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ws_keepalives;
  std::optional<std::uint16_t> sse_status;
  std::vector<std::string> sse_events;  // "event|id|retry|data"
  std::vector<std::string> sse_comments;
  std::vector<std::string> sse_closes;
  std::vector<std::pair<std::uint32_t, std::string>> sse_keepalives;
  std::vector<bool> server_closes;  // on_server_close(restart)

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
  void on_response_body_shared(const protocol::SharedBytes& b, bool more) override {
    if (hold_shared) held.push_back(b);
    on_response_body(b.view(), more);
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
  void on_websocket_accept(std::string_view sub, std::span<const workers::HeaderView> h) override {
    accepted_subprotocol = std::string(sub);
    for (const auto& x : h) headers.emplace_back(std::string(x.name), std::string(x.value));
  }
  void on_websocket_send(bool text, std::string_view payload) override {
    ws_sent.emplace_back(text, std::string(payload));
    if (auto_write && upstream) upstream->response_written(payload.size());
  }
  void on_websocket_close(std::uint16_t code, std::string_view reason) override {
    ws_closes.emplace_back(code, std::string(reason));
  }
  void on_websocket_keepalive(std::uint32_t interval, std::uint32_t timeout) override {
    ws_keepalives.emplace_back(interval, timeout);
  }
  void on_sse_start(std::uint16_t s, std::span<const workers::HeaderView> h) override {
    sse_status = s;
    for (const auto& x : h) headers.emplace_back(std::string(x.name), std::string(x.value));
  }
  void on_sse_send(const workers::SseEventView& e) override {
    sse_events.push_back((e.has_event ? std::string(e.event) : "-") + "|" + (e.has_id ? std::string(e.id) : "-") + "|" +
                         std::to_string(e.retry) + "|" + std::string(e.data));
    if (auto_write && upstream) upstream->response_written(e.data.size());
  }
  void on_sse_comment(std::string_view c) override { sse_comments.emplace_back(c); }
  void on_sse_keepalive(std::uint32_t interval, std::string_view c) override {
    sse_keepalives.emplace_back(interval, std::string(c));
  }
  void on_sse_close(std::string_view reason) override { sse_closes.emplace_back(reason); }
  void on_server_close(bool restart) override { server_closes.push_back(restart); }
};

}  // namespace pagi::fakes
