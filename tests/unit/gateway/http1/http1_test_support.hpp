// Shared helpers for the HTTP/1 connection tests: a real socket pair through
// a listening socket (TCP on 127.0.0.1 port 0, or a short Unix path), a raw
// non-blocking client, and run_until to wait for an event with a deadline.
#pragma once

#include <chrono>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>
#include <sys/un.h>

#include "gateway/http1/connection.hpp"
#include "tests/fakes/fake_scope_opener.hpp"

namespace pagi::testing {

// A blocking-connect, non-blocking-read client on a raw fd.
class RawClient {
 public:
  explicit RawClient(int fd) : fd_(fd) { ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK); }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends everything (polling the socket: the server runs on this thread,
  // so callers keep payloads within the socket buffers or use send_some).
  void send(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // Sends what the socket takes now; returns the count.
  std::size_t send_some(std::string_view data) {
    const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  // Reads whatever is available; sets eof() on orderly close or reset.
  void pump() {
    if (fd_ < 0) return;
    char buf[65536];
    while (true) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        received.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) eof_ = true;
      return;
    }
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool eof() const { return eof_; }
  std::size_t count(std::string_view needle) const {
    std::size_t n = 0;
    for (auto pos = received.find(needle); pos != std::string::npos; pos = received.find(needle, pos + 1)) ++n;
    return n;
  }

  std::string received;

 private:
  int fd_;
  bool eof_ = false;
};

struct ParsedResponse {
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string body;
};

// Parses consecutive responses; `head_request` marks responses without body.
inline std::vector<ParsedResponse> parse_responses(std::string_view data, bool head_request = false) {
  namespace http = boost::beast::http;
  std::vector<ParsedResponse> out;
  while (!data.empty()) {
    http::response_parser<http::string_body> p;
    p.eager(true);
    p.skip(head_request);
    p.body_limit(boost::none);
    boost::beast::error_code ec;
    const auto n = p.put(boost::asio::buffer(data.data(), data.size()), ec);
    if (ec || !p.is_done()) break;
    data.remove_prefix(n);
    const auto& m = p.get();
    ParsedResponse r;
    r.status = m.result_int();
    for (const auto& f : m) r.headers.insert(f.name_string(), f.value());
    r.body = m.body();
    out.push_back(std::move(r));
  }
  return out;
}

class Http1Harness {
 public:
  Http1Harness() : opener(ioc.get_executor()) { settings.request_timeout = gateway::Seconds(0); }

  // A TCP connection: returns the client; the server side is started.
  std::unique_ptr<RawClient> connect_tcp() {
    namespace asio = boost::asio;
    if (!tcp_acceptor) {
      tcp_acceptor = std::make_unique<asio::ip::tcp::acceptor>(
          ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    }
    const auto ep = tcp_acceptor->local_endpoint();
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(ep.port());
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return nullptr;
    asio::generic::stream_protocol::socket server(ioc);
    tcp_acceptor->accept(server);
    adopt(std::move(server));
    return std::make_unique<RawClient>(fd);
  }

  std::unique_ptr<RawClient> connect_unix() {
    namespace asio = boost::asio;
    if (!unix_acceptor) {
      unix_path = "/tmp/ph1-" + std::to_string(::getpid()) + "-" + std::to_string(++unix_counter) + ".sock";
      ::unlink(unix_path.c_str());
      unix_acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(
          ioc, asio::local::stream_protocol::endpoint(unix_path));
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", unix_path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return nullptr;
    asio::generic::stream_protocol::socket server(ioc);
    unix_acceptor->accept(server);
    adopt(std::move(server));
    return std::make_unique<RawClient>(fd);
  }

  ~Http1Harness() {
    // Exchanges in flight keep their connection alive: close them first.
    for (auto& w : connections)
      if (auto c = w.lock()) c->close_now();
    if (!unix_path.empty()) ::unlink(unix_path.c_str());
  }

  // Runs the loop until pred() holds or the deadline passes.
  bool run_until(const std::function<bool()>& pred,
                 std::chrono::milliseconds deadline = std::chrono::milliseconds(5000)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > end) return false;
      ioc.restart();
      ioc.run_for(std::chrono::milliseconds(2));
    }
    return true;
  }
  // Runs ready handlers until none is left (the loop is idle).
  void settle() {
    ioc.restart();
    while (ioc.poll() > 0) ioc.restart();
  }

  FakeScope& scope(std::size_t i = 0) { return *opener.scopes.at(i); }

  boost::asio::io_context ioc;
  gateway::HttpSettings settings;
  FakeScopeOpener opener;
  std::vector<std::weak_ptr<gateway::http1::Connection>> connections;
  // The server side's fds, to look at the kernel's receive queue (FIONREAD):
  // bytes there are bytes the connection did not read.
  std::vector<int> server_fds;
  int closed = 0;

 private:
  void adopt(boost::asio::generic::stream_protocol::socket s) {
    server_fds.push_back(s.native_handle());
    auto c = gateway::http1::make_connection(
        std::move(s), settings, opener, [this] { ++closed; },
        // A WebSocket upgrade: the session is the connection from now on.
        [this](std::weak_ptr<gateway::http1::Connection> next) { connections.push_back(std::move(next)); });
    connections.push_back(c);
    c->start();
  }

  std::unique_ptr<boost::asio::ip::tcp::acceptor> tcp_acceptor;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> unix_acceptor;
  std::string unix_path;
  int unix_counter = 0;
};

}  // namespace pagi::testing
