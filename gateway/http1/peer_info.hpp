// The scope's client and server addresses, read from a connected socket:
// IPv4/IPv6 address and port, or the listening path for Unix sockets (whose
// peers are unnamed, so client_host stays empty).
#pragma once

#include "gateway/http1/connection.hpp"
#include "gateway/http1/scope_builder.hpp"

namespace pagi::gateway::http1 {

PeerInfo peer_info_of(StreamSocket& socket);

}  // namespace pagi::gateway::http1
