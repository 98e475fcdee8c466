// The transport side of a scope (DESIGN.md "Downstream"): what the pool calls
// when the app, or the pool itself, has something for the client. Implemented
// by the HTTP/1 exchange today, by HTTP/2 streams, WebSocket and SSE sessions
// later. All calls happen on the io_context thread that owns the transport.
//
// Events reaching these methods were validated by the pool (protocol/
// event_validation): header bytes are safe, statuses in range.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "workers/scope_request.hpp"

namespace pagi::workers {

// Why a scope could not be served by any worker. Each maps to one response.
enum class UpstreamError : std::uint8_t {
  worker_lost,     // the worker died or broke protocol -> 502 if not started
  queue_full,      // pool queue overflow -> 503 + Retry-After
  queue_timeout,   // waited too long for a worker -> 503 + Retry-After
  pool_failed,     // pool in crash loop / not ready -> 503 + Retry-After
  request_timeout, // no response started in time -> 504
  shutting_down,   // gateway is stopping and the scope never started -> 503
};

class Downstream {
 public:
  virtual ~Downstream() = default;

  virtual void on_response_start(std::uint16_t status, std::span<const HeaderView> headers,
                                 bool trailers) = 0;
  virtual void on_response_body(std::string_view body, bool more) = 0;
  // Send [offset, offset+length) of a file (length -1: to its end), then
  // end the body.
  virtual void on_response_file(std::string_view path, std::uint64_t offset,
                                std::int64_t length) = 0;
  virtual void on_response_trailers(std::span<const HeaderView> trailers) = 0;
  // http.fullflush: push out anything buffered now.
  virtual void on_flush() {}
  // The worker granted request-body credit (Upstream::request_window grew).
  // The first grant on an expect_continue scope is the moment to send 100.
  virtual void on_request_credit() = 0;
  // The app's future for this scope finished (failed: it raised). If no
  // response started, the transport answers 500 itself.
  virtual void on_app_done(bool failed) = 0;
  // The scope cannot be served: answer per UpstreamError if no response has
  // started, otherwise abort the client connection.
  virtual void on_upstream_error(UpstreamError error) = 0;
};

}  // namespace pagi::workers
