// Client listeners: TCP (IPv4/IPv6) and Unix stream sockets, one HTTP/1
// connection per accepted socket. Enforces max_connections by pausing
// accepts at the limit, and shuts down in two phases: shutdown() stops
// accepting, closes idle connections and lets in-flight exchanges finish;
// close_all() is the hard stop for the deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/http_settings.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway {

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
  // A stale socket file at `path` is removed; the socket gets `mode`.
  void listen_unix(const std::string& path, unsigned mode = 0666);

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
