// The order rules of websocket and sse scopes, as the gateway checks them on
// what a worker sends (docs/protocol.md 3a, 3b). Sans-I/O, like
// HttpScopeFlow (which still keeps these scopes' byte windows, and checks
// the denial responses, which follow the http rules).
#pragma once

#include <cstdint>
#include <string_view>

namespace pagi::workers {

// What the pool does with a worker event.
enum class FlowVerdict : std::uint8_t {
  deliver,    // pass it to the Downstream
  ignore,     // legal but moot (e.g. websocket.send after websocket.close)
  violation,  // breaks the protocol: the worker loses its connection
};

enum class WsPhase : std::uint8_t {
  connecting,  // websocket.connect delivered, no answer yet
  denying,     // websocket.http.response.start sent instead of accept
  accepted,    // open
  closing,     // the app sent websocket.close after accept
  closed,      // closed before accept (403), or the denial finished
};

class WsScopeFlow {
 public:
  FlowVerdict on_accept();
  FlowVerdict on_send();
  FlowVerdict on_close();
  FlowVerdict on_keepalive();
  // websocket.http.response.start / body (the denial extension).
  FlowVerdict on_denial_start();
  FlowVerdict on_denial_body(bool more);
  WsPhase phase() const { return phase_; }
  std::string_view error() const { return error_; }

 private:
  FlowVerdict violation(std::string_view why) {
    error_ = why;
    return FlowVerdict::violation;
  }
  WsPhase phase_ = WsPhase::connecting;
  std::string_view error_;
};

enum class SsePhase : std::uint8_t {
  awaiting_start,
  streaming,  // sse.start sent
  closed,     // sse.close sent
  declining,  // sse.http.response.start sent: an ordinary response follows
};

class SseScopeFlow {
 public:
  FlowVerdict on_start();
  // sse.send, sse.comment, sse.keepalive.
  FlowVerdict on_event();
  FlowVerdict on_close();
  // sse.http.response.start (its body follows the http rules).
  FlowVerdict on_decline();
  FlowVerdict on_decline_body();
  SsePhase phase() const { return phase_; }
  std::string_view error() const { return error_; }

 private:
  FlowVerdict violation(std::string_view why) {
    error_ = why;
    return FlowVerdict::violation;
  }
  SsePhase phase_ = SsePhase::awaiting_start;
  std::string_view error_;
};

}  // namespace pagi::workers
