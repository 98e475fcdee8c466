// SSE connection detection (Www spec): a request is an SSE request when its
// Accept header lists the media type text/event-stream (any parameters,
// any case) and it is not a WebSocket upgrade (checked by the caller).
#pragma once

#include "workers/event_stream_accept.hpp"

namespace pagi::gateway::sse {

using workers::accepts_event_stream;

}  // namespace pagi::gateway::sse
