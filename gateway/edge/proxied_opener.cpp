#include "gateway/edge/proxied_opener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace pagi::gateway::edge {
namespace {

class ProxiedOpener final : public workers::ScopeOpener {
 public:
  ProxiedOpener(workers::ScopeOpener& inner, const ProxyHeader& header) : inner_(inner), header_(header) {}

  std::unique_ptr<workers::Upstream> open_scope(const workers::ScopeRequest& request,
                                                std::weak_ptr<workers::Downstream> downstream) override {
    return inner_.open_scope(rewrite(request), std::move(downstream));
  }
  bool supports(const workers::ScopeRequest& request) override { return inner_.supports(rewrite(request)); }
  std::size_t open_body_window(const workers::ScopeRequest& request) override {
    return inner_.open_body_window(request);
  }

 private:
  const workers::ScopeRequest& rewrite(const workers::ScopeRequest& request) {
    scope_ = request;
    // The socket's peer (the proxy) stays visible to apps as pagi.peer.
    // (LOCAL/UNKNOWN headers name no source: the listener uses no
    // ProxiedOpener for them and the client stays the peer.)
    if (scope_.peer_host.empty()) {
      scope_.peer_host = request.client_host;
      scope_.peer_port = request.client_port;
    }
    scope_.client_host = header_.source_host;
    scope_.client_port = header_.source_port;
    scope_.server_host = header_.destination_host;
    scope_.server_port = header_.destination_port;
    scope_.server_is_unix = false;
    return scope_;
  }

  workers::ScopeOpener& inner_;
  ProxyHeader header_;
  workers::ScopeRequest scope_;
};

}  // namespace

std::unique_ptr<workers::ScopeOpener> make_proxied_opener(workers::ScopeOpener& inner, const ProxyHeader& header) {
  return std::make_unique<ProxiedOpener>(inner, header);
}

std::string peer_host_of(const boost::asio::generic::stream_protocol::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return {};
  char text[INET6_ADDRSTRLEN] = {};
  const auto* sa = ep.data();
  if (sa->sa_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof text);
  else if (sa->sa_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text, sizeof text);
  return text;
}

}  // namespace pagi::gateway::edge
