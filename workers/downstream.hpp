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

namespace pagi::protocol {
class SharedBytes;
}

namespace pagi::workers {

// Why a scope could not be served by any worker. Each maps to one response.
enum class UpstreamError : std::uint8_t {
  worker_lost,      // the worker died or broke protocol -> 502 if not started
  queue_full,       // pool queue overflow -> 503 + Retry-After
  queue_timeout,    // waited too long for a worker -> 503 + Retry-After
  pool_failed,      // pool in crash loop / not ready -> 503 + Retry-After
  request_timeout,  // no response started in time -> 504
  shutting_down,    // gateway is stopping and the scope never started -> 503
};

// sse.send, as the pool hands it over (validated: event/id without CR/LF/NUL).
struct SseEventView {
  std::string_view data;
  std::string_view event;  // when has_event
  std::string_view id;     // when has_id
  bool has_event = false;
  bool has_id = false;
  std::int64_t retry = -1;  // -1: no retry field
};

class Downstream {
 public:
  virtual ~Downstream() = default;

  virtual void on_response_start(std::uint16_t status, std::span<const HeaderView> headers, bool trailers) = 0;
  virtual void on_response_body(std::string_view body, bool more) = 0;
  // The same, with the body's storage shared (the worker's read chunk or
  // its shared body ring): a transport that queues bytes may keep `body`
  // instead of copying it. The default copies, through on_response_body.
  virtual void on_response_body_shared(const protocol::SharedBytes& body, bool more);
  // Send [offset, offset+length) of a file (length -1: to its end), then
  // end the body.
  virtual void on_response_file(std::string_view path, std::uint64_t offset, std::int64_t length) = 0;
  virtual void on_response_trailers(std::span<const HeaderView> trailers) = 0;
  // http.response.early_hint (extension): a 103 with these headers, only
  // before on_response_start; transports without interim responses (HTTP/1.0)
  // drop it.
  virtual void on_response_early_hint(std::span<const HeaderView> headers) {}
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

  // ---- websocket scopes (docs/protocol.md 3a). The denial extension's
  // websocket.http.response.start/body arrive as on_response_start/body.
  // websocket.accept: complete the handshake; `subprotocol` empty = none.
  virtual void on_websocket_accept(std::string_view subprotocol, std::span<const HeaderView> headers) {}
  virtual void on_websocket_send(bool text, std::string_view payload) {}
  // websocket.close: before accept a 403, after it a Close frame.
  virtual void on_websocket_close(std::uint16_t code, std::string_view reason) {}
  // websocket.keepalive (0 interval stops; 0 timeout = no pong deadline).
  virtual void on_websocket_keepalive(std::uint32_t interval_ms, std::uint32_t timeout_ms) {}

  // ---- sse scopes (docs/protocol.md 3b). sse.http.response.start/body
  // arrive as on_response_start/body.
  virtual void on_sse_start(std::uint16_t status, std::span<const HeaderView> headers) {}
  virtual void on_sse_send(const SseEventView& event) {}
  virtual void on_sse_comment(std::string_view comment) {}
  virtual void on_sse_keepalive(std::uint32_t interval_ms, std::string_view comment) {}
  virtual void on_sse_close(std::string_view reason) {}

  // A long-lived scope (WebSocket, SSE) must end because the gateway stops
  // or its worker is drained; `restart`: a reload (WebSocket close 1012
  // instead of 1001). The transport closes it and tells the app
  // (server_shutdown).
  virtual void on_server_close(bool restart) {}
};

}  // namespace pagi::workers
