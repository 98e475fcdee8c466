// The HTTP/1.1 side of the WebSocket opening handshake (RFC 6455 4.2):
// recognising an upgrade request, Sec-WebSocket-Accept, the subprotocol list,
// and the few responses the gateway writes before the socket speaks frames
// (101, 403, the app's denial response, 400/426 for broken upgrades).
// Sans-I/O: strings in, bytes appended to a buffer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "workers/scope_request.hpp"

namespace pagi::gateway::websocket {

enum class UpgradeVerdict : std::uint8_t {
  not_websocket,  // no `Upgrade: websocket`: an ordinary request
  ok,             // a valid opening handshake
  bad_request,    // claims an upgrade but is malformed -> 400
  bad_version,    // Sec-WebSocket-Version is not 13 -> 426
};

struct UpgradeRequest {
  UpgradeVerdict verdict = UpgradeVerdict::not_websocket;
  std::string_view key;  // Sec-WebSocket-Key (valid when ok)
};

// `headers` lower-case names, as the scope carries them.
UpgradeRequest check_upgrade(std::string_view method, int http_version, std::span<const workers::HeaderView> headers);

// True when the comma-separated `list` holds `token` (ASCII case-insensitive).
bool list_has_token(std::string_view list, std::string_view token) noexcept;

// Sec-WebSocket-Protocol values split on commas, trimmed, empties dropped;
// every such header field counts. Views point into `headers`.
void parse_subprotocols(std::span<const workers::HeaderView> headers, std::vector<std::string_view>& out);

// base64(SHA-1(key + RFC 6455 GUID)).
std::string accept_key(std::string_view client_key);

// 101 Switching Protocols. `subprotocol` empty = none. The app's `headers`
// are added except those the handshake owns.
void write_accept_response(std::string& out, std::string_view client_key, std::string_view subprotocol,
                           std::span<const workers::HeaderView> headers, std::string_view date,
                           std::string_view server_header);
// A complete response that ends the connection: Content-Length framing,
// Connection: close. Used for 403, 400, 426 and the app's denial response.
void write_final_response(std::string& out, std::uint16_t status, std::span<const workers::HeaderView> headers,
                          std::string_view body, std::string_view date, std::string_view server_header);

// An HTTP-date for `t` (seconds since the epoch).
std::string http_date(long long t);

}  // namespace pagi::gateway::websocket
