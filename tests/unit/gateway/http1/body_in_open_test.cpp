// The first request body piece rides with the open when the pool takes one
// (ScopeOpener::open_body_window): a body the client sent with its head
// reaches the app in the opening frame, whole or up to the window.
#include <gtest/gtest.h>

#include "tests/unit/gateway/http1/http1_test_support.hpp"

namespace pagi::testing {
namespace {

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

std::string post(const std::string& body, std::string_view extra = {}) {
  return "POST /up HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" +
         body;
}

// 64 KiB: more than the head read's buffer (about 5 KiB here), so the
// connection reads the rest of it before opening the scope.
TEST(Http1BodyInOpen, WholeBodyGoesWithTheOpen) {
  Http1Harness h;
  h.settings.max_request_line = 1024;
  h.settings.max_header_bytes = 4096;
  h.opener.body_in_open = 256 * 1024;
  h.opener.initial_window = 256 * 1024;
  const std::string body = pattern(64 * 1024);
  auto c = h.connect_tcp();
  c->send(post(body));
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  EXPECT_TRUE(s.request.has_body);
  EXPECT_FALSE(s.request.more);
  EXPECT_TRUE(s.request.body == body);
  h.settle();
  EXPECT_TRUE(s.body_chunks.empty());  // nothing after the open
  EXPECT_EQ(s.window, 192u * 1024);    // the open's body counts against it
  s.respond(200, "ok");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
}

TEST(Http1BodyInOpen, BodyBeyondTheWindowFollowsWithinCredit) {
  Http1Harness h;
  h.opener.body_in_open = 16 * 1024;
  h.opener.initial_window = 16 * 1024;
  const std::string body = pattern(40 * 1024);
  auto c = h.connect_tcp();
  c->send(post(body));
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  EXPECT_TRUE(s.request.has_body);
  EXPECT_TRUE(s.request.more);
  EXPECT_EQ(s.request.body, body.substr(0, 16 * 1024));
  h.settle();
  EXPECT_TRUE(s.body_chunks.empty());  // the window is used up
  s.grant(64 * 1024);
  ASSERT_TRUE(h.run_until([&] { return s.body_complete; }));
  EXPECT_TRUE(s.request.body + s.body == body);
  EXPECT_EQ(s.max_chunk_over_window, 0u);
}

TEST(Http1BodyInOpen, ExpectContinueAndChunkedBodiesGoAfterTheOpen) {
  Http1Harness h;
  h.opener.body_in_open = 256 * 1024;
  h.opener.initial_window = 256 * 1024;
  auto c = h.connect_tcp();
  c->send("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  EXPECT_FALSE(h.scope(0).request.has_body);
  ASSERT_TRUE(h.run_until([&] { return h.scope(0).body_complete; }));
  EXPECT_EQ(h.scope(0).body, "hello");

  auto c2 = h.connect_tcp();
  c2->send(post("abc", "Expect: 100-continue\r\n"));
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 2; }));
  EXPECT_FALSE(h.scope(1).request.has_body);
}

TEST(Http1BodyInOpen, NothingBufferedYetMeansNoBodyInTheOpen) {
  Http1Harness h;
  h.opener.body_in_open = 256 * 1024;
  h.opener.initial_window = 256 * 1024;
  auto c = h.connect_tcp();
  c->send("POST /late HTTP/1.1\r\nContent-Length: 4\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  EXPECT_FALSE(s.request.has_body);
  c->send("late");
  ASSERT_TRUE(h.run_until([&] { return s.body_complete; }));
  EXPECT_EQ(s.body, "late");
}

}  // namespace
}  // namespace pagi::testing
