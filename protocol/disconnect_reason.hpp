// The PAGI standard disconnect reasons (Www spec, "Standard Disconnect
// Reasons"), shared by every transport and the worker pools.
#pragma once

#include <cstdint>
#include <string_view>

namespace pagi {

enum class DisconnectReason : std::uint8_t {
  none,            // completed normally: no reason is reported
  client_closed,   // client closed the connection mid-request
  client_timeout,  // client stopped sending (read timeout)
  idle_timeout,    // idle before the request arrived
  keepalive_timeout,
  write_timeout,
  write_error,
  read_error,
  protocol_error,
  server_shutdown,
  server_error,  // the gateway aborted the exchange (worker lost, bad event)
  body_too_large,
  queue_overflow,
};

constexpr std::string_view to_string(DisconnectReason r) noexcept {
  switch (r) {
    case DisconnectReason::none: return "";
    case DisconnectReason::client_closed: return "client_closed";
    case DisconnectReason::client_timeout: return "client_timeout";
    case DisconnectReason::idle_timeout: return "idle_timeout";
    case DisconnectReason::keepalive_timeout: return "keepalive_timeout";
    case DisconnectReason::write_timeout: return "write_timeout";
    case DisconnectReason::write_error: return "write_error";
    case DisconnectReason::read_error: return "read_error";
    case DisconnectReason::protocol_error: return "protocol_error";
    case DisconnectReason::server_shutdown: return "server_shutdown";
    case DisconnectReason::server_error: return "server_error";
    case DisconnectReason::body_too_large: return "body_too_large";
    case DisconnectReason::queue_overflow: return "queue_overflow";
  }
  return "server_error";
}

}  // namespace pagi
