// Who the client is behind trusted proxies: RFC 7239 `Forwarded`, or
// `X-Forwarded-For` with `X-Forwarded-Proto` / `X-Forwarded-Host`. Sans-I/O.
//
// Only a trusted peer's headers are read. The hop list is walked right to
// left (nearest proxy first); each hop found in the trusted set is skipped,
// and the first untrusted address is the client. A hop that is not an
// address ("unknown", an obfuscated name, garbage) ends the walk: the client
// is then the last trusted proxy, never a value the client could choose.
// `Forwarded` wins over the X-Forwarded-* family when both are present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "gateway/edge/settings/cidr.hpp"
#include "workers/scope_request.hpp"

namespace pagi::gateway::edge {

struct ClientIdentity {
  std::string host;            // client address text (v4 dotted, v6 compressed)
  std::uint16_t port = 0;      // 0 when a proxy did not say
  std::string scheme;          // "http"/"https" from the proxy; empty = unchanged
  std::string forwarded_host;  // Host the client asked for; empty = unchanged
  bool from_proxy = false;     // the headers were honoured
};

ClientIdentity resolve_client(std::string_view peer_host, std::uint16_t peer_port,
                              std::span<const workers::HeaderView> headers, const CidrSet& trusted,
                              std::size_t max_hops);

}  // namespace pagi::gateway::edge
