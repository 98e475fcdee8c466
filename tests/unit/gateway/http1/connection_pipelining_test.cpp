// http.max_pipelined: while a request is answered, at most that many
// complete requests are parsed ahead of it; then the connection stops
// reading (backpressure) until the answered one finishes.
#include <gtest/gtest.h>
#include <sys/ioctl.h>

#include "tests/unit/gateway/http1/http1_test_support.hpp"

namespace pagi::testing {
namespace {

std::size_t unread_bytes(int fd) {
  int n = 0;
  return ::ioctl(fd, FIONREAD, &n) == 0 ? static_cast<std::size_t>(n) : 0;
}

// `n` bytes reach the server's socket and stay there: nobody reads them.
// (No event says "not read": the loop runs a little to give a read the
// chance it must not take.)
bool stays_unread(Http1Harness& h, int fd, std::size_t n, const std::function<void()>& watch) {
  if (!h.run_until([&] {
        watch();
        return unread_bytes(fd) == n;
      }))
    return false;
  h.run_until(
      [&] {
        watch();
        return false;
      },
      std::chrono::milliseconds(50));
  return unread_bytes(fd) == n;
}

TEST(Http1Pipelining, ReadingPausesAtMaxPipelinedAndResumes) {
  Http1Harness h;
  h.settings.max_pipelined = 2;
  auto c = h.connect_tcp();
  auto conn = h.connections.at(0).lock();
  std::size_t most_ahead = 0;
  auto watch = [&] { most_ahead = std::max(most_ahead, conn ? conn->pipelined_requests() : 0); };

  // Request 1 is held by the app; 2 and 3 are parsed ahead, so reading stops.
  c->send("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] {
    watch();
    return h.opener.scopes.size() == 1 && conn->pipelined_requests() == 2;
  }));
  const std::string fourth = "GET /4 HTTP/1.1\r\n\r\n";
  c->send(fourth);
  const int fd = h.server_fds.at(0);
  EXPECT_TRUE(stays_unread(h, fd, fourth.size(), watch));
  EXPECT_EQ(h.opener.scopes.size(), 1u);

  // Answering resumes reading; every request is answered, in order.
  h.opener.on_open = [](FakeScope& s) {
    const std::string body = "r" + s.request.path;
    s.respond(200, body, {{"content-length", std::to_string(body.size())}});
  };
  h.scope().respond(200, "r/1", {{"content-length", "3"}});
  ASSERT_TRUE(h.run_until([&] {
    watch();
    c->pump();
    return parse_responses(c->received).size() == 4;
  }));
  const auto r = parse_responses(c->received);
  for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i].body, "r/" + std::to_string(i + 1));
  EXPECT_EQ(unread_bytes(fd), 0u);
  EXPECT_EQ(most_ahead, 2u);
  EXPECT_EQ(conn->pipelined_requests(), 0u);
}

TEST(Http1Pipelining, RequestsWithBodiesCountWhenComplete) {
  Http1Harness h;
  h.settings.max_pipelined = 1;
  h.opener.initial_window = 1000;  // the app takes bodies
  auto c = h.connect_tcp();
  auto conn = h.connections.at(0).lock();
  c->send("GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.settle();
  EXPECT_EQ(conn->pipelined_requests(), 0u);  // the POST is not complete yet
  c->send("cde");
  ASSERT_TRUE(h.run_until([&] { return conn->pipelined_requests() == 1; }));
  const std::string third = "GET /3 HTTP/1.1\r\n\r\n";
  c->send(third);
  EXPECT_TRUE(stays_unread(h, h.server_fds.at(0), third.size(), [] {}));
  EXPECT_EQ(conn->pipelined_requests(), 1u);

  h.opener.on_open = [](FakeScope& s) {
    const std::string body = "r" + s.request.path;
    s.respond(200, body, {{"content-length", std::to_string(body.size())}});
  };
  h.scope().respond(200, "r/1", {{"content-length", "3"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 3;
  }));
  const auto r = parse_responses(c->received);
  EXPECT_EQ(r[1].body, "r/2");
  EXPECT_EQ(r[2].body, "r/3");
  EXPECT_EQ(h.scope(1).request.method, "POST");
}

TEST(Http1Pipelining, ABadRequestBehindIsAnsweredInTurn) {
  Http1Harness h;
  h.settings.max_pipelined = 4;
  h.opener.on_open = [](FakeScope& s) { s.respond(200, "ok", {{"content-length", "2"}}); };
  auto c = h.connect_tcp();
  c->send("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nBad Header\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  const auto r = parse_responses(c->received);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, 200u);
  EXPECT_EQ(r[1].status, 400u);
  EXPECT_EQ(h.opener.scopes.size(), 1u);
}

}  // namespace
}  // namespace pagi::testing
