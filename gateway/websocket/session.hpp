// The WebSocket connection driver (STYLE.md 2, 3): it takes the socket over
// from the HTTP/1 connection that saw the upgrade request, opens the
// `websocket` scope, holds the handshake until the app answers, then drives
// the FrameDecoder over the socket: messages to the app within its credit,
// the app's messages out with send-window credit back, pings answered,
// keepalive, the close handshake, and every timeout on one timer.
//
// Lifetime (STYLE.md 6): owned by its pending operations (read wait, write,
// timer); during the handshake it also holds itself until the app answers.
// The pool holds it by weak_ptr (Downstream), the listener by weak_ptr
// (http1::Connection, so graceful stop and hard stop reach it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/http1/connection.hpp"
#include "gateway/http_settings.hpp"
#include "gateway/observability/exchange_observer.hpp"
#include "workers/scope_request.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway::websocket {

enum class SessionState : std::uint8_t {
  handshake,  // scope open, 101 not sent: waiting for the app's answer
  denying,    // writing 403 / the app's denial response, then close
  open,       // frames both ways
  closing,    // a Close frame sent (or the connection failed): finishing writes
  closed,     // socket closed
};
std::string_view to_string(SessionState s) noexcept;
bool is_legal_transition(SessionState from, SessionState to) noexcept;

struct SessionStart {
  http1::StreamSocket socket;
  std::string buffered;             // client bytes read past the upgrade request
  std::string client_key;           // Sec-WebSocket-Key
  std::function<void()> on_closed;  // runs once, when the socket is closed
  // Access log / metrics: the session is one exchange, logged at its end.
  observability::ExchangeObserver* observer = nullptr;
  std::uint64_t bytes_in = 0;  // of the upgrade request, read by the HTTP/1 connection
};

// Opens the scope (`request.type` websocket) through `opener` and starts the
// session. Returns it as the listener's Connection handle.
std::shared_ptr<http1::Connection> start_session(SessionStart start, const HttpSettings& settings,
                                                 workers::ScopeOpener& opener, const workers::ScopeRequest& request);

}  // namespace pagi::gateway::websocket
