// The gateway as a library (issue #8): pagi::gateway::Gateway on a
// caller-owned io_context next to another Asio service (a TCP echo server),
// one thread running the loop, a real Perl worker, real sockets. A client
// thread makes blocking requests to both services; stop() drains an exchange
// still in flight, and io_context.run() returns by itself afterwards.
#include <array>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "gateway/config/command_line.hpp"
#include "gateway/gateway.hpp"

#ifndef PAGI_SOURCE_DIR
#error "PAGI_SOURCE_DIR must name the source tree (tests/CMakeLists.txt)"
#endif

namespace pagi::testing {
namespace {

using boost::asio::ip::tcp;

// A second service on the same loop: echoes 5-byte messages, remembers the
// thread that served them.
class EchoServer {
 public:
  explicit EchoServer(boost::asio::io_context& io)
      : acceptor_(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)) {
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  std::thread::id served_on;
  int served = 0;

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      auto buf = std::make_shared<std::array<char, 5>>();
      boost::asio::async_read(*s, boost::asio::buffer(*buf),
                              [this, s, buf](boost::system::error_code rec, std::size_t) {
                                if (rec) return;
                                served_on = std::this_thread::get_id();
                                ++served;
                                boost::asio::async_write(*s, boost::asio::buffer(*buf),
                                                         [s, buf](boost::system::error_code, std::size_t) {});
                              });
      accept();
    });
  }
  tcp::acceptor acceptor_;
};

// Blocking client side, run on its own thread (never on the loop's).
int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};  // a broken server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until `until` appears in what was read (or EOF when empty).
std::string read_until(int fd, std::string& got, std::string_view until) {
  std::array<char, 4096> buf{};
  while (until.empty() || got.find(until) == std::string::npos) {
    const auto n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    got.append(buf.data(), static_cast<std::size_t>(n));
  }
  return got;
}

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = connect_to(port);
  if (fd < 0) return "connect failed";
  send_all(fd, "GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  std::string got;
  read_until(fd, got, "");
  ::close(fd);
  return got;
}

std::string echo(std::uint16_t port, const std::string& five) {
  const int fd = connect_to(port);
  if (fd < 0) return "connect failed";
  send_all(fd, five);
  std::string got;
  read_until(fd, got, five);
  ::close(fd);
  return got;
}

std::uint16_t port_of(const std::string& url) {  // "http://127.0.0.1:PORT"
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

gateway::GatewayConfig embed_config() {
  const std::vector<std::string> args = {"--listen",
                                         "127.0.0.1:0",
                                         "--workers",
                                         "1",
                                         "--log-level",
                                         "warn",
                                         std::string(PAGI_SOURCE_DIR) + "/tests/unit/gateway/embed_app.pl"};
  return gateway::parse_command_line(args).config;
}

TEST(EmbedGateway, ServesNextToAnotherAsioServiceOnOneLoopAndStopsDraining) {
  boost::asio::io_context io;
  EchoServer echo_server(io);
  gateway::Gateway gw(io, embed_config());

  struct Results {
    std::string start_error = "start() never called back";
    std::string hello, echoed, drain_first, drain_rest, after_stop;
    bool stopped = false;
  } r;
  std::promise<void> stop_called;
  std::thread client;

  gw.start([&](const std::string& error) {
    r.start_error = error;
    if (!error.empty() || gw.bound_addresses().empty()) {
      echo_server.close();
      gw.stop([&] { r.stopped = true; });
      return;
    }
    const std::uint16_t gw_port = port_of(gw.bound_addresses().front());
    const std::uint16_t echo_port = echo_server.port();
    // The loop keeps running on this thread while the client blocks on its own.
    client = std::thread([&, gw_port, echo_port] {
      r.hello = http_get(gw_port, "/hello");
      r.echoed = echo(echo_port, "ping!");
      // An exchange in flight when stop() is called: the app has sent its
      // first chunk and waits for the rest of the request body.
      const int fd = connect_to(gw_port);
      send_all(fd, "POST /drain HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nab");
      read_until(fd, r.drain_first, "started\n");
      boost::asio::post(io, [&] {
        echo_server.close();
        gw.stop([&] { r.stopped = true; });
        stop_called.set_value();
      });
      stop_called.get_future().wait();
      r.after_stop = http_get(gw_port, "/late");  // the listener is closed: refused
      send_all(fd, "cde");
      read_until(fd, r.drain_rest, "");
      ::close(fd);
    });
  });

  // run() returns once both services are done: no io.stop() needed.
  const std::size_t handlers = io.run_for(std::chrono::seconds(60));
  if (client.joinable()) client.join();
  EXPECT_GT(handlers, 0u);
  EXPECT_TRUE(io.stopped()) << "io_context.run() did not return by itself after stop()";

  ASSERT_EQ(r.start_error, "");
  EXPECT_NE(r.hello.find("HTTP/1.1 200"), std::string::npos) << r.hello;
  EXPECT_NE(r.hello.find("embedded /hello\n"), std::string::npos) << r.hello;
  EXPECT_EQ(r.echoed, "ping!");
  EXPECT_EQ(echo_server.served, 1);
  EXPECT_EQ(echo_server.served_on, std::this_thread::get_id()) << "the echo service ran on the loop's thread";
  EXPECT_NE(r.drain_first.find("HTTP/1.1 200"), std::string::npos) << r.drain_first;
  EXPECT_NE(r.drain_rest.find("got abcde\n"), std::string::npos) << r.drain_first << r.drain_rest;
  EXPECT_EQ(r.after_stop, "connect failed") << "a new connection after stop() was accepted";
  EXPECT_TRUE(r.stopped) << "stop() never called back";
}

}  // namespace
}  // namespace pagi::testing
