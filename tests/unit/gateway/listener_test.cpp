// The client listener over real sockets: TCP port 0 and Unix paths,
// max_connections, graceful shutdown and the hard close.
#include "gateway/listener.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/unit/gateway/http1/http1_test_support.hpp"

namespace pagi::testing {
namespace {

int connect_tcp_fd(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
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

int connect_unix_fd(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class ListenerTest : public ::testing::Test {
 protected:
  ListenerTest() : opener(ioc.get_executor()) { settings.request_timeout = gateway::Seconds(0); }

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

  boost::asio::io_context ioc;
  gateway::HttpSettings settings;
  FakeScopeOpener opener;
};

TEST_F(ListenerTest, ServesTcpOnEphemeralPort) {
  gateway::Listener listener(ioc, settings, opener);
  const auto ep = listener.listen_tcp("127.0.0.1", 0);
  ASSERT_NE(ep.port(), 0);
  listener.start();
  opener.on_open = [](FakeScope& s) { s.respond(200, "hi", {{"content-length", "2"}}); };
  RawClient c(connect_tcp_fd(ep.port()));
  c.send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(run_until([&] {
    c.pump();
    return parse_responses(c.received).size() == 1;
  }));
  EXPECT_EQ(listener.connection_count(), 1u);
  EXPECT_EQ(opener.scopes[0]->request.server_port, ep.port());
}

TEST_F(ListenerTest, ServesIpv6Loopback) {
  gateway::Listener listener(ioc, settings, opener);
  boost::asio::ip::tcp::endpoint ep;
  try {
    ep = listener.listen_tcp("::1", 0);
  } catch (const std::exception&) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  listener.start();
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(ep.port());
  sa.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  RawClient c(fd);
  c.send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(run_until([&] { return opener.scopes.size() == 1; }));
  EXPECT_EQ(opener.scopes[0]->request.client_host, "::1");
}

TEST_F(ListenerTest, UnixSocketReplacesStaleFileAndIsWorldWritable) {
  const std::string path = "/tmp/phl-" + std::to_string(::getpid()) + ".sock";
  {  // a stale socket file from an earlier run
    boost::asio::local::stream_protocol::acceptor stale(ioc, boost::asio::local::stream_protocol::endpoint(path));
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  {
    gateway::Listener listener(ioc, settings, opener);
    listener.listen_unix(path);
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0666u);
    listener.start();
    RawClient c(connect_unix_fd(path));
    c.send("GET /x HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(run_until([&] { return opener.scopes.size() == 1; }));
    EXPECT_TRUE(opener.scopes[0]->request.server_is_unix);
    EXPECT_EQ(opener.scopes[0]->request.server_host, path);
  }
  EXPECT_NE(::stat(path.c_str(), &st), 0);  // removed at close
}

TEST_F(ListenerTest, RefusesNonSocketPath) {
  const std::string path = "/tmp/phl-file-" + std::to_string(::getpid());
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fclose(f);
  }
  gateway::Listener listener(ioc, settings, opener);
  EXPECT_THROW(listener.listen_unix(path), boost::system::system_error);
  ::unlink(path.c_str());
}

TEST_F(ListenerTest, MaxConnectionsPausesAccepting) {
  settings.max_connections = 1;
  gateway::Listener listener(ioc, settings, opener);
  const auto ep = listener.listen_tcp("127.0.0.1", 0);
  listener.start();
  auto first = std::make_unique<RawClient>(connect_tcp_fd(ep.port()));
  first->send("GET /1 HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(run_until([&] { return opener.scopes.size() == 1; }));
  RawClient second(connect_tcp_fd(ep.port()));  // sits in the backlog
  second.send("GET /2 HTTP/1.1\r\n\r\n");
  run_until([] { return false; }, std::chrono::milliseconds(50));
  EXPECT_EQ(opener.scopes.size(), 1u);
  EXPECT_EQ(listener.connection_count(), 1u);
  first->close();
  ASSERT_TRUE(run_until([&] { return opener.scopes.size() == 2; }));
  EXPECT_EQ(opener.scopes[1]->request.path, "/2");
}

TEST_F(ListenerTest, GracefulShutdownFinishesInFlightAndClosesIdle) {
  gateway::Listener listener(ioc, settings, opener);
  const auto ep = listener.listen_tcp("127.0.0.1", 0);
  listener.start();
  RawClient idle(connect_tcp_fd(ep.port()));
  RawClient busy(connect_tcp_fd(ep.port()));
  busy.send("GET /busy HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(run_until([&] { return opener.scopes.size() == 1 && listener.connection_count() == 2; }));
  bool all_closed = false;
  listener.shutdown([&] { all_closed = true; });
  ASSERT_TRUE(run_until([&] {
    idle.pump();
    return idle.eof();
  }));
  EXPECT_EQ(idle.received, "");
  EXPECT_FALSE(all_closed);
  EXPECT_EQ(connect_tcp_fd(ep.port()), -1);  // no longer accepting
  opener.scopes[0]->respond(200, "done", {{"content-length", "4"}});
  ASSERT_TRUE(run_until([&] {
    busy.pump();
    return busy.eof();
  }));
  const auto r = parse_responses(busy.received);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].body, "done");
  EXPECT_NE(busy.received.find("connection: close\r\n"), std::string::npos);
  busy.close();
  ASSERT_TRUE(run_until([&] { return all_closed; }));
  EXPECT_EQ(opener.scopes[0]->done_calls, 1);
}

TEST_F(ListenerTest, CloseAllAbortsInFlight) {
  gateway::Listener listener(ioc, settings, opener);
  const auto ep = listener.listen_tcp("127.0.0.1", 0);
  listener.start();
  RawClient c(connect_tcp_fd(ep.port()));
  c.send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(run_until([&] { return opener.scopes.size() == 1; }));
  listener.close_all();
  ASSERT_EQ(opener.scopes[0]->disconnects.size(), 1u);
  EXPECT_EQ(opener.scopes[0]->disconnects[0], DisconnectReason::server_shutdown);
  EXPECT_EQ(listener.connection_count(), 0u);
  ASSERT_TRUE(run_until([&] {
    c.pump();
    return c.eof();
  }));
}

}  // namespace
}  // namespace pagi::testing
