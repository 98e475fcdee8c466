// X-Sendfile / X-Accel-Redirect: a worker answers with one of these headers
// and the gateway sends the file instead of the app's body (the app's
// worker is freed at once; the bytes go out with sendfile).
//   - X-Sendfile: an absolute path; served only under `sendfile.roots`
//     (symlinks must resolve under the root too).
//   - X-Accel-Redirect: a URI path; served from the static mount it falls
//     under (`internal: true` mounts exist for exactly this).
// A path outside those is refused with 403 and logged; a missing file is
// 404. The response gets the file's own validators, and the client's
// conditional and Range headers apply as for a static file.
//
// Installed as a Downstream between the pool and the transport (the pool
// holds it by weak_ptr, the EdgeUpstream owns it), for HTTP scopes only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/edge/settings/edge_settings.hpp"
#include "workers/upstream.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::gateway::edge {

// Wraps `inner` (the pool's Upstream for the scope) so that the pool talks
// to `downstream` through the filter. Returns the Upstream for the
// transport and sets `filtered` to what the pool must be given instead of
// `downstream`.
std::unique_ptr<workers::Upstream> open_with_sendfile_filter(boost::asio::io_context& io,
                                                             std::shared_ptr<const EdgeSettings> settings,
                                                             const workers::ScopeRequest& request,
                                                             workers::ScopeOpener& inner,
                                                             std::weak_ptr<workers::Downstream> downstream);

}  // namespace pagi::gateway::edge
