// Reads a PROXY protocol header off a freshly accepted socket, never a byte
// past it (fixed-size reads for v2, a peek up to the LF for v1), then hands
// the socket on. A malformed header, EOF or the deadline closes the socket
// and `done` is never called.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/generic/stream_protocol.hpp>

#include "gateway/edge/proxy_protocol.hpp"

namespace pagi::gateway::edge {

using StreamSocket = boost::asio::generic::stream_protocol::socket;

class ProxyHeaderRead {
 public:
  virtual ~ProxyHeaderRead() = default;
  // Close the socket now (listener shutdown); `done` is not called.
  virtual void cancel() = 0;
};

using ProxyHeaderDone = std::function<void(StreamSocket socket, const ProxyHeader& header)>;

std::shared_ptr<ProxyHeaderRead> read_proxy_header(StreamSocket socket, std::chrono::steady_clock::duration timeout,
                                                   ProxyHeaderDone done);

}  // namespace pagi::gateway::edge
