// SSE connection detection (Www spec): a request is an SSE request when its
// Accept header lists the media type text/event-stream (any parameters,
// any case) and it is not a WebSocket upgrade (checked by the caller).
#pragma once

#include <span>

#include "workers/scope_request.hpp"

namespace pagi::gateway::sse {

bool accepts_event_stream(std::span<const workers::HeaderView> headers) noexcept;

}  // namespace pagi::gateway::sse
