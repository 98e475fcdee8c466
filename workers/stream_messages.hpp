// Encoders for the gateway -> worker messages of websocket and sse scopes
// (docs/protocol.md 3a, 3b); each appends one framed Envelope to `out`.
// The http ones are in worker_messages.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/disconnect_reason.hpp"

namespace pagi::workers::messages {

void append_websocket_connect(std::string& out, std::uint64_t scope);
void append_websocket_receive(std::string& out, std::uint64_t scope, bool text, std::string_view payload);
void append_websocket_disconnect(std::string& out, std::uint64_t scope, std::uint16_t code, std::string_view reason);
void append_sse_request(std::string& out, std::uint64_t scope, std::string_view chunk, bool more);
void append_sse_disconnect(std::string& out, std::uint64_t scope, DisconnectReason reason);

}  // namespace pagi::workers::messages
