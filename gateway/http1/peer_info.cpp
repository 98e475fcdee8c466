#include "gateway/http1/peer_info.hpp"

#include <cstddef>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace pagi::gateway::http1 {
namespace asio = boost::asio;
using boost::system::error_code;

PeerInfo peer_info_of(StreamSocket& socket) {
  PeerInfo info;
  error_code ec;
  const auto local = socket.local_endpoint(ec);
  const auto remote = socket.remote_endpoint(ec);
  auto describe = [](const asio::generic::stream_protocol::endpoint& ep, std::string& host, std::uint16_t& port) {
    char text[INET6_ADDRSTRLEN] = {};
    const auto* sa = ep.data();
    if (sa->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      host = text;
      port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      host = text;
      port = ntohs(in6->sin6_port);
    }
  };
  describe(remote, info.client_host, info.client_port);
  if (local.data()->sa_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(local.data());
    const auto max =
        local.size() > offsetof(sockaddr_un, sun_path) ? local.size() - offsetof(sockaddr_un, sun_path) : 0;
    info.server_host.assign(un->sun_path, strnlen(un->sun_path, max));
    info.server_is_unix = true;
  } else {
    describe(local, info.server_host, info.server_port);
  }
  return info;
}

}  // namespace pagi::gateway::http1
