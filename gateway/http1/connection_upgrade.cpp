// The HTTP/1 connection driver (connection_driver.hpp) at an upgrade: the
// socket leaves for a WebSocket session or an HTTP/2 connection (h2c), or a
// broken WebSocket upgrade is refused.
#include <string>

#include "gateway/http1/connection_driver.hpp"
#include "gateway/websocket/handshake.hpp"
#include "gateway/websocket/session.hpp"

namespace pagi::gateway::http1 {

// Ends this connection without closing its socket, for whoever takes the
// socket over; returns the client bytes read past the request.
std::string Http1Connection::release_socket() {
  const auto self = shared_from_this();  // the read's hold may be the last owner
  std::string rest = input_.take_rest();
  stop_watching(false);
  stop_reading();  // a posted read finds this connection closed
  timer_.cancel();
  head_deadline_.reset();
  idle_deadline_.reset();
  request_deadline_.reset();
  body_deadline_.reset();
  set_state(ConnectionState::closed);
  recorder_.connection_closed();
  return rest;
}

// The upgrade: the socket, and any client bytes read past the request,
// go to a websocket session; this connection ends without closing it.
void Http1Connection::hand_over(const workers::ScopeRequest& scope, std::string_view key) {
  const auto self = shared_from_this();
  std::string rest = release_socket();  // the websocket session counts itself from here
  websocket::SessionStart start{std::move(socket_),    std::move(rest),      std::string(key),
                                std::move(on_closed_), recorder_.observer(), recorder_.take_pending_in()};
  on_closed_ = nullptr;
  auto session = websocket::start_session(std::move(start), settings_, opener_, scope);
  if (on_handover_) on_handover_(session);
}

// The HTTP/2 connection takes the socket; this one ends like a WebSocket
// handover does.
void Http1Connection::hand_over_h2c(const workers::ScopeRequest& scope, std::string_view http2_settings) {
  const auto self = shared_from_this();
  std::string rest = release_socket();
  auto on_closed = std::move(on_closed_);
  on_closed_ = nullptr;
  auto next = extras_->h2c_upgrade(std::move(socket_), std::move(rest), scope, http2_settings, std::move(on_closed));
  if (on_handover_ && next) on_handover_(next);
}

// A broken upgrade request: 400, or 426 naming the version we speak.
void Http1Connection::reject_upgrade(std::uint16_t status) {
  client_keep_alive_ = false;
  std::string bytes;
  const workers::HeaderView version{"sec-websocket-version", "13"};
  websocket::write_final_response(bytes, status,
                                  status == 426 ? std::span(&version, 1) : std::span<const workers::HeaderView>{}, "",
                                  dates_.now(), settings_.server_header);
  send_gateway_answer(status, bytes);
}

}  // namespace pagi::gateway::http1
