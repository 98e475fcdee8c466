#include "gateway/listener.hpp"

#include <cstddef>
#include <cstring>
#include <malloc.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "gateway/edge/proxied_opener.hpp"
#include "gateway/edge/proxy_header_reader.hpp"
#include "gateway/http1/connection.hpp"
#include "gateway/http2/connection.hpp"
#include "gateway/tls/tls_context.hpp"
#include "gateway/tls/tls_handshake.hpp"

namespace pagi::gateway {
namespace asio = boost::asio;

// Appends, not operator+ chains: g++ 12 warns falsely (-Wrestrict) on those.
std::string http_url(const asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string url = "http://";
  if (addr.is_v6()) url += '[';
  url += addr.to_string();
  if (addr.is_v6()) url += ']';
  url += ':';
  url += std::to_string(ep.port());
  return url;
}

using boost::system::error_code;
using GenericProtocol = asio::generic::stream_protocol;
using GenericAcceptor = asio::basic_socket_acceptor<GenericProtocol>;

struct Listener::Impl : std::enable_shared_from_this<Listener::Impl> {
  struct Acceptor {
    explicit Acceptor(GenericAcceptor a) : acceptor(std::move(a)) {}
    GenericAcceptor acceptor;
    bool accepting = false;                // an async_accept is pending
    std::string unix_path;                 // removed at close
    std::shared_ptr<tls::TlsContext> tls;  // TLS listener: one context for all
    bool h2c = false;                      // cleartext: HTTP/2 prior knowledge and Upgrade: h2c
    bool h2c_only = false;                 // cleartext: HTTP/2 prior knowledge, never HTTP/1
    EdgeHooks edge;                        // gateway/edge: own opener, PROXY header, connection access
  };

  Impl(asio::io_context& ioc, const HttpSettings& s, workers::ScopeOpener& o) : ioc(ioc), settings(s), opener(o) {}

  asio::io_context& ioc;
  HttpSettings settings;
  workers::ScopeOpener& opener;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::unordered_map<std::uint64_t, std::weak_ptr<http1::Connection>> connections;
  std::uint64_t next_id = 1;
  bool started = false;
  bool stopping = false;
  std::function<void()> on_all_closed;
  observability::ExchangeObserver* observer = nullptr;
  // PROXY protocol: per-connection openers (by connection id) and the
  // header reads still pending (cancelled at shutdown).
  std::unordered_map<std::uint64_t, std::unique_ptr<workers::ScopeOpener>> proxied_openers;
  std::vector<std::weak_ptr<edge::ProxyHeaderRead>> proxy_reads;
  // Idle memory return: glibc keeps freed heap (64 connections' request
  // buffers after a burst of uploads: ~16 MiB) unless asked to trim.
  asio::steady_timer idle_trim{ioc};
  bool idle_trim_armed = false;

  void accept_on(Acceptor& a) {
    if (!started || stopping || a.accepting || !a.acceptor.is_open()) return;
    if (connections.size() >= settings.max_connections) return;  // resumed on a close
    a.accepting = true;
    a.acceptor.async_accept([self = shared_from_this(), &a](error_code ec, GenericProtocol::socket socket) {
      a.accepting = false;
      if (ec) {
        if (ec != asio::error::operation_aborted && !self->stopping) {
          spdlog::warn("accept failed: {}", ec.message());
          self->accept_on(a);  // EMFILE and friends: keep serving the open ones
        }
        return;
      }
      self->accept_edge(std::move(socket), a);
      self->accept_on(a);
    });
  }

  // gateway/edge hooks before the HTTP connection: a PROXY header first
  // (its addresses become the scopes' client/server), then `action: close`
  // access on the peer.
  void accept_edge(GenericProtocol::socket socket, const Acceptor& a) {
    // A response head written before a sendfile body must not wait for the
    // client's delayed ACK (Nagle): ~40 ms per static file otherwise.
    error_code ec;
    if (const auto local = a.acceptor.local_endpoint(ec); !ec && local.data()->sa_family != AF_UNIX) {
      const int one = 1;
      ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (!a.edge.proxy_protocol) {
      if (a.edge.admit && !a.edge.admit(edge::peer_host_of(socket))) return;  // closed by going out of scope
      return adopt(std::move(socket), a);
    }
    std::erase_if(proxy_reads, [](const auto& w) { return w.expired(); });
    std::weak_ptr<Impl> weak = shared_from_this();
    proxy_reads.push_back(edge::read_proxy_header(
        std::move(socket), std::chrono::duration_cast<std::chrono::steady_clock::duration>(settings.header_timeout),
        [weak, &a](GenericProtocol::socket s, const edge::ProxyHeader& header) {
          const auto self = weak.lock();
          if (!self || self->stopping) return;
          if (!header.has_address) {  // LOCAL/UNKNOWN: the socket's own peer
            if (a.edge.admit && !a.edge.admit(edge::peer_host_of(s))) return;
            return self->adopt(std::move(s), a);
          }
          if (a.edge.admit && !a.edge.admit(header.source_host)) return;
          const auto id = self->next_id;  // the id adopt() gives this connection
          auto& inner = a.edge.opener ? *a.edge.opener : self->opener;
          auto proxied = edge::make_proxied_opener(inner, header);
          auto* raw = proxied.get();
          self->proxied_openers.emplace(id, std::move(proxied));
          self->adopt(std::move(s), a, raw);
        }));
  }

  void adopt(GenericProtocol::socket socket, const Acceptor& a, workers::ScopeOpener* per_connection = nullptr) {
    if (stopping) return;
    const auto id = next_id++;
    // Shadows the member on purpose: this connection's opener (edge policy
    // of its listener, PROXY addresses) is the one every session below uses.
    workers::ScopeOpener& opener = per_connection ? *per_connection : a.edge.opener ? *a.edge.opener : this->opener;
    std::weak_ptr<Impl> weak = shared_from_this();
    auto on_closed = [weak, id] {
      if (auto self = weak.lock()) self->on_closed(id);
    };
    // A WebSocket upgrade, TLS handshake or HTTP/2 detection: the next
    // session now owns the socket.
    auto on_handover = [weak, id](std::weak_ptr<http1::Connection> next) {
      if (auto self = weak.lock()) {
        auto it = self->connections.find(id);
        if (it != self->connections.end()) it->second = std::move(next);
      }
    };
    std::shared_ptr<http1::Connection> conn;
    if (a.tls) {
      tls::TlsServices services{&settings, &opener, observer, a.tls, http2_over_tls(opener)};
      conn = tls::make_tls_connection(std::move(socket), services, on_closed, on_handover);
    } else if (a.h2c) {
      conn = http2::make_cleartext_connection(std::move(socket), settings, opener, on_closed, on_handover, observer,
                                              a.h2c_only);
    } else {
      conn = http1::make_connection(std::move(socket), settings, opener, on_closed, on_handover, observer);
    }
    connections.emplace(id, conn);
    conn->start();
  }

  tls::StartH2 http2_over_tls(workers::ScopeOpener& opener) {
    return [this, &opener](std::unique_ptr<tls::TlsStream> stream,
                           std::shared_ptr<const http1::ConnectionExtras> extras, std::function<void()> closed) {
      return http2::start_tls_connection(std::move(stream), settings, opener, std::move(extras), std::move(closed),
                                         observer);
    };
  }

  void on_closed(std::uint64_t id) {
    connections.erase(id);
    proxied_openers.erase(id);
    if (stopping) {
      if (connections.empty() && on_all_closed) {
        auto cb = std::move(on_all_closed);
        on_all_closed = nullptr;
        // Posted: the closing connection is still on the stack.
        asio::post(ioc, std::move(cb));
      }
      return;
    }
    for (auto& a : acceptors) accept_on(*a);
    if (connections.empty()) arm_idle_trim();
  }

  // One second after the last connection closed, if none opened since,
  // hand the allocator's free memory back to the system (malloc_trim walks
  // the heap: at most once a second, never while clients are connected).
  void arm_idle_trim() {
    if (idle_trim_armed) return;
    idle_trim_armed = true;
    idle_trim.expires_after(std::chrono::seconds(1));
    idle_trim.async_wait([weak = std::weak_ptr<Impl>(shared_from_this())](error_code ec) {
      const auto self = weak.lock();
      if (!self) return;
      self->idle_trim_armed = false;
      if (!ec && !self->stopping && self->connections.empty()) ::malloc_trim(0);
    });
  }

  template <class F>
  void for_each_connection(F&& f) {
    // Copy first: closing a connection erases it from the map.
    std::vector<std::shared_ptr<http1::Connection>> live;
    for (auto& [id, weak] : connections)
      if (auto c = weak.lock()) live.push_back(std::move(c));
    for (auto& c : live) f(*c);
  }

  void close_acceptors() {
    for (auto& a : acceptors) {
      error_code ec;
      a->acceptor.close(ec);
      if (!a->unix_path.empty()) ::unlink(a->unix_path.c_str());
      a->unix_path.clear();
    }
    // Connections still sending their PROXY header are not served any more.
    for (auto& weak : proxy_reads)
      if (auto read = weak.lock()) read->cancel();
    proxy_reads.clear();
  }
};

Listener::Listener(asio::io_context& ioc, const HttpSettings& settings, workers::ScopeOpener& opener)
    : impl_(std::make_shared<Impl>(ioc, settings, opener)) {}

Listener::~Listener() {
  impl_->stopping = true;
  impl_->idle_trim.cancel();  // a pending trim must not keep run() alive
  impl_->close_acceptors();
  impl_->for_each_connection([](http1::Connection& c) { c.close_now(); });
}

asio::ip::tcp::endpoint Listener::listen_tcp(const std::string& host, std::uint16_t port) {
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  const asio::ip::tcp::endpoint endpoint(address, port);
  auto a = std::make_unique<Impl::Acceptor>(GenericAcceptor(impl_->ioc));
  const GenericProtocol::endpoint generic(endpoint);
  a->acceptor.open(generic.protocol());
  a->acceptor.set_option(asio::socket_base::reuse_address(true));
  a->acceptor.bind(generic);
  a->acceptor.listen(asio::socket_base::max_listen_connections);
  const auto bound = a->acceptor.local_endpoint();
  asio::ip::tcp::endpoint result;
  result.resize(bound.size());
  std::memcpy(result.data(), bound.data(), bound.size());
  impl_->acceptors.push_back(std::move(a));
  if (impl_->started) impl_->accept_on(*impl_->acceptors.back());
  return result;
}

asio::ip::tcp::endpoint Listener::listen_tcp(const std::string& host, std::uint16_t port,
                                             const std::optional<tls::TlsSettings>& tls, bool h2c, bool h2c_only) {
  auto context = tls ? std::make_shared<tls::TlsContext>(*tls) : nullptr;  // throws on bad files
  const auto endpoint = listen_tcp(host, port);
  impl_->acceptors.back()->tls = std::move(context);
  impl_->acceptors.back()->h2c = (h2c || h2c_only) && !tls;
  impl_->acceptors.back()->h2c_only = h2c_only && !tls;
  return endpoint;
}

std::vector<std::string> Listener::reload_tls() {
  std::vector<std::string> errors;
  for (auto& a : impl_->acceptors) {
    if (!a->tls) continue;
    if (auto error = a->tls->reload(); !error.empty()) errors.push_back(std::move(error));
  }
  return errors;
}

void Listener::listen_unix(const std::string& path, unsigned mode) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw boost::system::system_error(make_error_code(boost::system::errc::file_exists),
                                        "listen " + path + ": exists and is not a socket");
    ::unlink(path.c_str());  // stale socket from an earlier run
  }
  auto a = std::make_unique<Impl::Acceptor>(GenericAcceptor(impl_->ioc));
  const GenericProtocol::endpoint generic{asio::local::stream_protocol::endpoint(path)};
  a->acceptor.open(generic.protocol());
  a->acceptor.bind(generic);
  a->acceptor.listen(asio::socket_base::max_listen_connections);
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
  a->unix_path = path;
  impl_->acceptors.push_back(std::move(a));
  if (impl_->started) impl_->accept_on(*impl_->acceptors.back());
}

std::string Listener::adopt_fd(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw boost::system::system_error(error_code(errno, boost::system::system_category()), "inherited socket");
  const int protocol = addr.ss_family == AF_UNIX ? 0 : IPPROTO_TCP;
  auto a = std::make_unique<Impl::Acceptor>(GenericAcceptor(impl_->ioc));
  a->acceptor.assign(GenericProtocol(addr.ss_family, protocol), fd);
  std::string text;
  if (addr.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&addr);
    const auto path_len = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    std::string path(un->sun_path, path_len);
    if (!path.empty() && path[0] == '\0') path[0] = '@';  // abstract
    while (!path.empty() && path.back() == '\0') path.pop_back();
    text = "unix:" + path;
  } else {
    asio::ip::tcp::endpoint ep;
    ep.resize(len);
    std::memcpy(ep.data(), &addr, len);
    text = http_url(ep);
  }
  impl_->acceptors.push_back(std::move(a));
  if (impl_->started) impl_->accept_on(*impl_->acceptors.back());
  return text;
}

void Listener::set_edge_hooks(EdgeHooks hooks) {
  if (!impl_->acceptors.empty()) impl_->acceptors.back()->edge = std::move(hooks);
}

void Listener::set_observer(observability::ExchangeObserver* observer) { impl_->observer = observer; }

void Listener::start() {
  impl_->started = true;
  for (auto& a : impl_->acceptors) impl_->accept_on(*a);
}

void Listener::shutdown(std::function<void()> on_all_closed) {
  impl_->stopping = true;
  impl_->idle_trim.cancel();  // a pending trim must not keep run() alive
  impl_->on_all_closed = std::move(on_all_closed);
  impl_->close_acceptors();
  impl_->for_each_connection([](http1::Connection& c) { c.shutdown_gracefully(); });
  if (impl_->connections.empty() && impl_->on_all_closed) {
    auto cb = std::move(impl_->on_all_closed);
    impl_->on_all_closed = nullptr;
    asio::post(impl_->ioc, std::move(cb));
  }
}

void Listener::close_all() {
  impl_->stopping = true;
  impl_->idle_trim.cancel();  // a pending trim must not keep run() alive
  impl_->close_acceptors();
  impl_->for_each_connection([](http1::Connection& c) { c.close_now(); });
}

std::size_t Listener::connection_count() const { return impl_->connections.size(); }

}  // namespace pagi::gateway
