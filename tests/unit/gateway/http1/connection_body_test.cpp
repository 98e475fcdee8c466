// Request bodies over real sockets: the app's window bounds what is read
// and delivered; credit resumes reading; 100-continue waits for credit.
#include <gtest/gtest.h>

#include "tests/unit/gateway/http1/http1_test_support.hpp"

namespace pagi::testing {
namespace {

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

class Http1Body : public ::testing::Test {
 protected:
  void SetUp() override {
    h.settings.max_request_line = 1024;
    h.settings.max_header_bytes = 4096;  // read buffer ~5 KiB
  }
  Http1Harness h;
};

// Sends until the kernel refuses, letting the gateway run in between.
std::size_t fill(Http1Harness& h, RawClient& c, std::string_view data) {
  std::size_t sent = 0;
  int refusals = 0;
  while (sent < data.size() && refusals < 3) {
    const auto n = c.send_some(data.substr(sent));
    sent += n;
    h.settle();
    refusals = n == 0 ? refusals + 1 : 0;
  }
  return sent;
}

TEST_F(Http1Body, ContentLengthBodyRespectsWindowAndCredit) {
  const std::string body = pattern(8 * 1024 * 1024);
  const std::string req = "POST /up HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  auto c = h.connect_tcp();
  std::size_t sent = c->send_some(req.substr(0, 100));
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  EXPECT_FALSE(s.request.has_body);  // the body follows as credit arrives

  // No credit: the gateway stops reading, so the client's sends stall.
  sent += fill(h, *c, std::string_view(req).substr(sent));
  EXPECT_LT(sent, req.size());
  EXPECT_EQ(s.body.size(), 0u);

  std::size_t granted = 0;
  while (!s.body_complete) {
    s.grant(64 * 1024);
    granted += 64 * 1024;
    sent += fill(h, *c, std::string_view(req).substr(sent));
    h.settle();
    ASSERT_LE(s.body.size(), granted);
    ASSERT_EQ(s.max_chunk_over_window, 0u);
    if (!s.body_complete && sent == req.size()) {
      ASSERT_TRUE(h.run_until([&] { return s.window == 0 || s.body_complete; }));
    }
  }
  EXPECT_EQ(s.body, body);
  EXPECT_GE(s.body_chunks.size(), body.size() / (64 * 1024));
  s.respond(204, "");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
}

TEST_F(Http1Body, ChunkedBodyArrivesInPiecesWithinWindow) {
  auto c = h.connect_tcp();
  c->send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  c->send("5\r\nhello\r\n6;ext=1\r\n world\r\n");
  h.settle();
  EXPECT_EQ(s.body, "");
  s.grant(7);
  ASSERT_TRUE(h.run_until([&] { return s.body.size() == 7; }));
  h.settle();
  EXPECT_EQ(s.body, "hello w");
  s.grant(100);
  ASSERT_TRUE(h.run_until([&] { return s.body == "hello world"; }));
  EXPECT_FALSE(s.body_complete);
  c->send("0\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return s.body_complete; }));
  EXPECT_EQ(s.body_chunks.back(), "");
}

TEST_F(Http1Body, ContinueSentOnlyAtFirstCredit) {
  auto c = h.connect_tcp();
  c->send("PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  EXPECT_TRUE(s.request.expect_continue);
  h.settle();
  c->pump();
  EXPECT_EQ(c->received, "");
  s.grant(2);
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return !c->received.empty();
  }));
  EXPECT_EQ(c->received, "HTTP/1.1 100 Continue\r\n\r\n");
  c->send("data");
  ASSERT_TRUE(h.run_until([&] { return s.body == "da"; }));
  s.grant(2);
  ASSERT_TRUE(h.run_until([&] { return s.body_complete; }));
  s.respond(200, "ok", {{"content-length", "2"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->count("HTTP/1.1 200") == 1;
  }));
  EXPECT_EQ(c->count("100 Continue"), 1u);
}

TEST_F(Http1Body, NoContinueWhenAppAnswersFirstAndConnectionCloses) {
  auto c = h.connect_tcp();
  c->send("PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().respond(417, "no", {{"content-length", "2"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(c->count("100 Continue"), 0u);
  EXPECT_NE(c->received.find("connection: close\r\n"), std::string::npos);
}

TEST_F(Http1Body, StreamedBodyOverLimitIs413) {
  h.settings.max_body_bytes = 10;
  h.opener.initial_window = 1000;
  auto c = h.connect_tcp();
  c->send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(c->received.rfind("HTTP/1.1 413", 0), 0u);
  ASSERT_EQ(h.opener.scopes.size(), 1u);
  ASSERT_EQ(h.scope().disconnects.size(), 1u);
  EXPECT_EQ(h.scope().disconnects[0], DisconnectReason::body_too_large);
}

}  // namespace
}  // namespace pagi::testing
