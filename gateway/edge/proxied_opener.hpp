// The listener's side of PROXY protocol and connection-level access:
//   - ProxiedOpener: for one connection that began with a PROXY header, a
//     ScopeOpener in front of the listener's that puts the header's source
//     (and destination) address in every scope's client (and server). The
//     listener owns it for as long as the connection (or the session it was
//     handed to) lives.
//   - peer_host_of: the text address of a socket's peer, for `action: close`.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/generic/stream_protocol.hpp>

#include "gateway/edge/proxy_protocol.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway::edge {

std::unique_ptr<workers::ScopeOpener> make_proxied_opener(workers::ScopeOpener& inner, const ProxyHeader& header);

// "" for a Unix socket peer (or one that went away).
std::string peer_host_of(const boost::asio::generic::stream_protocol::socket& socket);

}  // namespace pagi::gateway::edge
