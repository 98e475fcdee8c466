// The HTTP/1 connection over real sockets, with the fake pool as the app:
// keep-alive, pipelining, framing, HEAD, HTTP/1.0, Date, scope keys.
#include <gtest/gtest.h>

#include "tests/unit/gateway/http1/http1_test_support.hpp"

namespace pagi::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(Http1Connection, GetKeepAliveServesTwoRequests) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  EXPECT_EQ(h.scope().request.method, "GET");
  EXPECT_TRUE(h.scope().request.has_body);
  EXPECT_FALSE(h.scope().request.more);
  EXPECT_EQ(h.scope().request.client_host, "127.0.0.1");
  EXPECT_NE(h.scope().request.client_port, 0);
  EXPECT_EQ(h.scope().request.server_host, "127.0.0.1");
  h.scope().respond(200, "hello", {{"content-length", "5"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
  ASSERT_TRUE(h.run_until([&] { return h.scope().done_calls == 1; }));
  EXPECT_EQ(h.scope().written, 5u);
  auto r = parse_responses(c->received);
  EXPECT_EQ(r[0].status, 200u);
  EXPECT_EQ(r[0].body, "hello");
  EXPECT_EQ(r[0].headers.count("date"), 1u);

  c->send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 2; }));
  EXPECT_EQ(h.scope(1).request.path, "/two");
  h.scope(1).respond(201, "", {{"content-length", "0"}, {"date", "Mon, 01 Jan 2024 00:00:00 GMT"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 2;
  }));
  r = parse_responses(c->received);
  EXPECT_EQ(r[1].status, 201u);
  EXPECT_EQ(c->count("Mon, 01 Jan 2024"), 1u);  // the app's Date, not a second one
  EXPECT_EQ(c->count("date:"), 2u);
  EXPECT_EQ(h.closed, 0);
}

TEST(Http1Connection, PipelinedRequestsAnsweredInOrder) {
  Http1Harness h;
  h.opener.on_open = [](FakeScope& s) {
    const std::string body = "r" + s.request.path;
    s.respond(200, body, {{"content-length", std::to_string(body.size())}});
  };
  auto c = h.connect_tcp();
  c->send("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 3;
  }));
  const auto r = parse_responses(c->received);
  EXPECT_EQ(r[0].body, "r/1");
  EXPECT_EQ(r[1].body, "r/2");
  EXPECT_EQ(r[2].body, "r/3");
  ASSERT_EQ(h.opener.scopes.size(), 3u);
}

TEST(Http1Connection, ChunkedResponseWithTrailers) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  s.start(200, {{"content-type", "text/plain"}}, true);
  s.send("abc", true);
  s.send("de", false);
  h.settle();
  EXPECT_EQ(s.done_calls, 0);  // waiting for trailers
  s.send_trailers({{"x-checksum", "42"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->received.find("\r\n\r\n", c->received.find("0\r\n")) != std::string::npos && s.done_calls == 1;
  }));
  EXPECT_NE(c->received.find("transfer-encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(c->received.find("3\r\nabc\r\n2\r\nde\r\n0\r\nx-checksum: 42\r\n\r\n"), std::string::npos);
  EXPECT_EQ(s.written, 5u);
}

TEST(Http1Connection, AppTransferEncodingIgnoredContentLengthUsed) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().respond(200, "12345", {{"content-length", "5"}, {"transfer-encoding", "chunked"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
  EXPECT_EQ(c->received.find("transfer-encoding"), std::string::npos);
  EXPECT_EQ(parse_responses(c->received)[0].body, "12345");
}

TEST(Http1Connection, HeadWritesNoBodyKeepsFraming) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("HEAD /h HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().respond(200, "0123456789", {{"content-length", "10"}});
  ASSERT_TRUE(h.run_until([&] { return h.scope().done_calls == 1; }));
  c->pump();
  EXPECT_NE(c->received.find("content-length: 10\r\n"), std::string::npos);
  EXPECT_EQ(c->received.substr(c->received.find("\r\n\r\n") + 4), "");
  EXPECT_EQ(h.scope().written, 10u);  // discarded body still returns credit
  // The connection stays usable.
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 2; }));
}

TEST(Http1Connection, Http10WithoutKeepAliveCloses) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  EXPECT_EQ(h.scope().request.http_version, "1.0");
  h.scope().respond(200, "body-until-close");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(c->received.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(c->received.find("connection: close\r\n"), std::string::npos);
  EXPECT_EQ(c->received.find("transfer-encoding"), std::string::npos);
  EXPECT_EQ(c->received.substr(c->received.find("\r\n\r\n") + 4), "body-until-close");
  // The gateway half-closed and drains until the client closes its side.
  c->close();
  ASSERT_TRUE(h.run_until([&] { return h.closed == 1; }));
}

TEST(Http1Connection, Http10KeepAliveNeedsContentLength) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().respond(200, "ok", {{"content-length", "2"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
  EXPECT_NE(c->received.find("connection: keep-alive\r\n"), std::string::npos);
  c->send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 2; }));
  h.scope(1).respond(200, "no length");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(c->count("connection: close\r\n"), 1u);
}

TEST(Http1Connection, ConnectionCloseRequestClosesAfterResponse) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().respond(200, "x");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_NE(c->received.find("connection: close\r\n"), std::string::npos);
  EXPECT_NE(c->received.find("1\r\nx\r\n0\r\n\r\n"), std::string::npos);
}

TEST(Http1Connection, ScopeKeysPathQueryCookies) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET /a%2Fb/caf%E9+x?q=%20&r HTTP/1.1\r\nCookie: a=1\r\nX-Y: z\r\nCookie: b=2\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  const auto& r = h.scope().request;
  EXPECT_EQ(r.path, "/a/b/caf\xC3\xA9+x");
  EXPECT_EQ(r.raw_path, "/a%2Fb/caf%E9+x");
  EXPECT_EQ(r.query_string, "q=%20&r");
  EXPECT_EQ(r.scheme, "http");
  EXPECT_EQ(r.root_path, "");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"cookie", "a=1; b=2"}));
  EXPECT_EQ(r.headers[1], (std::pair<std::string, std::string>{"x-y", "z"}));
}

TEST(Http1Connection, UnixSocketScope) {
  Http1Harness h;
  h.settings.server_header = "pagi-test";
  auto c = h.connect_unix();
  ASSERT_TRUE(c);
  c->send("GET /u HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  EXPECT_TRUE(h.scope().request.server_is_unix);
  EXPECT_NE(h.scope().request.server_host.find("/tmp/ph1-"), std::string::npos);
  EXPECT_EQ(h.scope().request.client_host, "");
  h.scope().respond(200, "u", {{"content-length", "1"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
  EXPECT_NE(c->received.find("server: pagi-test\r\n"), std::string::npos);
}

}  // namespace
}  // namespace pagi::testing
