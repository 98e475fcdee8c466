// Whether a request's Accept header lists text/event-stream (any parameters,
// any case). Shared by the gateway's SSE detection (Www spec) and the pool's
// slot choice (an ASGI app's event stream arrives as a plain http scope).
#pragma once

#include <span>

#include "workers/scope_request.hpp"

namespace pagi::workers {

bool accepts_event_stream(std::span<const HeaderView> headers) noexcept;

}  // namespace pagi::workers
