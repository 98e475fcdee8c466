// Client listeners: TCP (IPv4/IPv6) and Unix stream sockets, one HTTP/1
// connection per accepted socket. Enforces max_connections by pausing
// accepts at the limit, and shuts down in two phases: shutdown() stops
// accepting, closes idle connections and lets in-flight exchanges finish;
// close_all() is the hard stop for the deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/http_settings.hpp"
#include "gateway/tls/tls_settings.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway {

namespace observability {
class ExchangeObserver;
}

// Edge policy of one listening socket (gateway/edge/, docs/edge.md).
struct EdgeHooks {
  // Scopes of this listener's connections go here instead of the
  // listener's opener (an EdgeOpener in front of it); null = that one.
  workers::ScopeOpener* opener = nullptr;
  // Every connection starts with a PROXY protocol v1/v2 header (else closed).
  bool proxy_protocol = false;
  // `action: close` access: false for a peer address closes the connection
  // before anything is read. Empty = every peer admitted.
  std::function<bool(std::string_view peer_host)> admit;
};

// "http://host:port" for a bound TCP endpoint ("[v6]" in brackets).
std::string http_url(const boost::asio::ip::tcp::endpoint& ep);

class Listener {
 public:
  // `opener` must outlive the listener and its connections.
  Listener(boost::asio::io_context& ioc, const HttpSettings& settings, workers::ScopeOpener& opener);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Setup: bind and listen (throws boost::system::system_error). Port 0
  // picks a free port; the bound endpoint is returned.
  boost::asio::ip::tcp::endpoint listen_tcp(const std::string& host, std::uint16_t port);
  // The same with a protocol choice (gateway/tls/, gateway/http2/): TLS with
  // ALPN h2/http1.1 when `tls` is set (its files are read now: throws on a
  // bad certificate), else cleartext with HTTP/2 prior knowledge and
  // Upgrade: h2c when `h2c`; `h2c_only` (cleartext): HTTP/2 prior knowledge
  // only, no HTTP/1 answer to anything.
  boost::asio::ip::tcp::endpoint listen_tcp(const std::string& host, std::uint16_t port,
                                            const std::optional<tls::TlsSettings>& tls, bool h2c,
                                            bool h2c_only = false);
  // Certificate reload (SIGHUP): every TLS listener re-reads its cert, key
  // and client_ca; new handshakes use them, open connections keep theirs.
  // Returns the errors, one per failed listener (which keeps its old
  // certificate); empty when all succeeded.
  std::vector<std::string> reload_tls();
  // A stale socket file at `path` is removed; the socket gets `mode`.
  void listen_unix(const std::string& path, unsigned mode = 0666);
  // Socket activation: accept on an already bound, listening socket (TCP
  // or Unix) passed in by systemd. The listener owns `fd` from now on and
  // never unlinks its path. Returns what it is bound to
  // ("http://127.0.0.1:8080", "unix:/run/pagi.sock"). Throws.
  std::string adopt_fd(int fd);
  // Access log and metrics hear of every connection and exchange; set
  // before start(). Must outlive the listener's connections.
  void set_observer(observability::ExchangeObserver* observer);
  // Edge hooks for the socket bound last (listen_tcp/listen_unix/adopt_fd);
  // call right after binding it, before start().
  void set_edge_hooks(EdgeHooks hooks);

  // Start accepting on every bound socket.
  void start();
  // Graceful: stop accepting, close idle connections, let the others finish
  // their current response. `on_all_closed` runs once no connection is left
  // (at once if none is).
  void shutdown(std::function<void()> on_all_closed);
  // Hard: close every connection now.
  void close_all();

  std::size_t connection_count() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pagi::gateway
