// The response fields of an event stream (sse.start), the same over HTTP/1
// and HTTP/2: the app's headers without content-length (a stream's body is
// never sized), plus content-type: text/event-stream and cache-control:
// no-cache when the app did not set them.
#pragma once

#include <span>
#include <vector>

#include "workers/scope_request.hpp"

namespace pagi::gateway::sse {

// The added values are string literals; the rest point into `headers`.
std::vector<workers::HeaderView> response_fields(std::span<const workers::HeaderView> headers);

}  // namespace pagi::gateway::sse
