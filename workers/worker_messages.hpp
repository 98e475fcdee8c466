// Encoders for every gateway -> worker message: each appends one framed
// Envelope to `out` (a worker connection's output buffer), one segment each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/disconnect_reason.hpp"
#include "workers/pool_settings.hpp"
#include "workers/scope_request.hpp"

namespace pagi::workers::messages {

// `body_ring_bytes`: size of the worker's shared body ring, 0 for none.
void append_welcome(std::string& out, const PoolSettings& settings, std::uint32_t worker_id,
                    std::uint32_t body_ring_bytes = 0);
// The scope opening with every ScopeRequest field; `request_body` is the
// first http.request carried in it (see docs/protocol.md).
void append_open(std::string& out, std::uint64_t scope, const ScopeRequest& request);
void append_lifespan_open(std::string& out, std::uint64_t scope);
void append_lifespan_startup(std::string& out, std::uint64_t scope);
void append_lifespan_shutdown(std::string& out, std::uint64_t scope);
void append_http_request(std::string& out, std::uint64_t scope, std::string_view chunk, bool more);
// Splits credits over UInt32 into several messages.
void append_credit(std::string& out, std::uint64_t scope, std::uint64_t bytes);
void append_response_done(std::string& out, std::uint64_t scope);
void append_http_disconnect(std::string& out, std::uint64_t scope, DisconnectReason reason);
void append_heartbeat(std::string& out, std::uint64_t seq);
void append_drain(std::string& out, std::uint32_t timeout_ms);
void append_body_ring_release(std::string& out, std::uint64_t through);
void append_shutdown(std::string& out);

}  // namespace pagi::workers::messages
