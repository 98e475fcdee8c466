// Path decoding, scope building, response heads and the date cache.
#include <gtest/gtest.h>

#include "gateway/http1/date_cache.hpp"
#include "gateway/http1/path_decoding.hpp"
#include "gateway/http1/request_codec.hpp"
#include "gateway/http1/response_head.hpp"
#include "gateway/http1/scope_builder.hpp"

namespace pagi::gateway::http1 {
namespace {

std::string decoded(std::string_view raw) {
  std::string out;
  decode_path(raw, out);
  return out;
}

TEST(PathDecoding, PercentDecodingRules) {
  EXPECT_EQ(decoded("/a%20b"), "/a b");
  EXPECT_EQ(decoded("/a%2Fb"), "/a/b");  // %2F decodes; raw_path keeps it
  EXPECT_EQ(decoded("/a+b"), "/a+b");    // + is not a space in paths
  EXPECT_EQ(decoded("/100%"), "/100%");  // stray % kept
  EXPECT_EQ(decoded("/%zz%4"), "/%zz%4");
  EXPECT_EQ(decoded("/caf%C3%A9"), "/caf\xC3\xA9");  // valid UTF-8 stays
}

TEST(PathDecoding, InvalidUtf8FallsBackToLatin1) {
  EXPECT_EQ(decoded("/caf%E9"), "/caf\xC3\xA9");                  // é as Latin-1 -> UTF-8
  EXPECT_EQ(decoded("/%C0%AF"), "/\xC3\x80\xC2\xAF");             // overlong rejected
  EXPECT_EQ(decoded("/%ED%A0%80"), "/\xC3\xAD\xC2\xA0\xC2\x80");  // surrogate
}

TEST(PathDecoding, SplitTarget) {
  auto p = split_target("/a%2Fb?x=1&y=%20+?z");
  EXPECT_EQ(p.raw_path, "/a%2Fb");
  EXPECT_EQ(p.query_string, "x=1&y=%20+?z");
  p = split_target("/plain");
  EXPECT_EQ(p.query_string, "");
  p = split_target("http://example.com:8080/abs?q");
  EXPECT_EQ(p.raw_path, "/abs");
  EXPECT_EQ(p.query_string, "q");
  p = split_target("http://example.com");
  EXPECT_EQ(p.raw_path, "/");
  EXPECT_EQ(split_target("*").raw_path, "*");
}

TEST(ScopeBuilder, BuildsHttpScopeWithFoldedCookies) {
  CodecLimits l{1024, 4096, 50, 0};
  RequestCodec codec(l);
  const std::string req = "GET /p%C3%A9/%2F?q=1 HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nX: y\r\nCookie: b=2\r\n\r\n";
  ASSERT_EQ(codec.feed(req, 0).kind, RequestCodec::EventKind::head);
  PeerInfo peer{"127.0.0.1", 5555, "127.0.0.1", 80, false};
  ScopeBuilder b;
  const auto& s = b.build(codec.head(), peer);
  EXPECT_EQ(s.method, "GET");
  EXPECT_EQ(s.http_version, "1.1");
  EXPECT_EQ(s.scheme, "http");
  EXPECT_EQ(s.path, "/p\xC3\xA9//");
  EXPECT_EQ(s.raw_path, "/p%C3%A9/%2F");
  EXPECT_EQ(s.query_string, "q=1");
  EXPECT_EQ(s.root_path, "");
  ASSERT_EQ(s.headers.size(), 3u);
  EXPECT_EQ(s.headers[0].name, "host");
  EXPECT_EQ(s.headers[1].name, "cookie");
  EXPECT_EQ(s.headers[1].value, "a=1; b=2");
  EXPECT_EQ(s.headers[2].name, "x");
  EXPECT_TRUE(s.has_body);
  EXPECT_EQ(s.body, "");
  EXPECT_FALSE(s.more);
  EXPECT_EQ(s.client_port, 5555);
}

TEST(DateCache, FormatsHttpDate) {
  DateCache d;
  EXPECT_EQ(d.at(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(d.at(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

std::string head_for(ResponseContext ctx, std::uint16_t status, std::vector<workers::HeaderView> h,
                     ResponsePlan* plan = nullptr) {
  std::string out;
  auto p = write_response_head(out, ctx, status, h);
  if (plan) *plan = p;
  return out;
}

TEST(ResponseHead, ChunkedWhenNoLengthOn11) {
  ResponseContext ctx;
  ctx.date = "D";
  ResponsePlan plan;
  const auto h = head_for(ctx, 200, {{"content-type", "text/plain"}, {"transfer-encoding", "gzip"}}, &plan);
  EXPECT_EQ(plan.framing, BodyFraming::chunked);
  EXPECT_TRUE(plan.keep_alive);
  EXPECT_EQ(h, "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\ndate: D\r\n\r\n");
}

TEST(ResponseHead, ContentLengthAndAppDateKept) {
  ResponseContext ctx;
  ctx.date = "D";
  ctx.server_header = "pagi";
  ResponsePlan plan;
  const auto h = head_for(ctx, 404, {{"content-length", "3"}, {"date", "X"}}, &plan);
  EXPECT_EQ(plan.framing, BodyFraming::content_length);
  EXPECT_EQ(h, "HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\ndate: X\r\nserver: pagi\r\n\r\n");
}

TEST(ResponseHead, Http10Rules) {
  ResponseContext ctx;
  ctx.request_version = 10;
  ctx.client_keep_alive = true;
  ResponsePlan plan;
  auto h = head_for(ctx, 200, {{"content-length", "1"}}, &plan);
  EXPECT_TRUE(plan.keep_alive);
  EXPECT_NE(h.find("connection: keep-alive\r\n"), std::string::npos);
  h = head_for(ctx, 200, {}, &plan);
  EXPECT_EQ(plan.framing, BodyFraming::close_delimited);
  EXPECT_FALSE(plan.keep_alive);
  EXPECT_NE(h.find("connection: close\r\n"), std::string::npos);
  EXPECT_EQ(h.find("transfer-encoding"), std::string::npos);
  ctx.client_keep_alive = false;
  h = head_for(ctx, 200, {{"content-length", "1"}}, &plan);
  EXPECT_FALSE(plan.keep_alive);
}

TEST(ResponseHead, HeadAndNoBodyStatuses) {
  ResponseContext ctx;
  ctx.head_method = true;
  ResponsePlan plan;
  auto h = head_for(ctx, 200, {{"content-length", "10"}}, &plan);
  EXPECT_EQ(plan.framing, BodyFraming::none);
  EXPECT_NE(h.find("content-length: 10"), std::string::npos);
  ctx.head_method = false;
  head_for(ctx, 204, {}, &plan);
  EXPECT_EQ(plan.framing, BodyFraming::none);
  EXPECT_TRUE(plan.keep_alive);
}

TEST(ResponseHead, ChunksAndTrailers) {
  std::string out;
  append_chunk(out, "hello");
  append_chunk(out, "");
  std::vector<workers::HeaderView> t{{"x-sum", "1"}};
  append_last_chunk(out, t);
  EXPECT_EQ(out, "5\r\nhello\r\n0\r\nx-sum: 1\r\n\r\n");
}

TEST(ServerResponse, RetryAfterAndClose) {
  ResponseContext ctx;
  std::string out;
  write_server_response(out, ctx, 503, true, 7);
  EXPECT_EQ(out.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u);
  EXPECT_NE(out.find("retry-after: 7\r\n"), std::string::npos);
  EXPECT_NE(out.find("connection: close\r\n"), std::string::npos);
  EXPECT_NE(out.find("content-type: text/plain"), std::string::npos);
}

}  // namespace
}  // namespace pagi::gateway::http1
