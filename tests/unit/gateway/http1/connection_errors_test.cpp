// Gateway-generated responses, disconnects, timeouts and file responses.
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/unit/gateway/http1/http1_test_support.hpp"

namespace pagi::testing {
namespace {

using std::chrono::milliseconds;

struct BadRequestCase {
  const char* name;
  std::string request;
  unsigned status;
};

class Http1Rejects : public ::testing::TestWithParam<BadRequestCase> {};

TEST_P(Http1Rejects, AnswersAndCloses) {
  Http1Harness h;
  h.settings.max_request_line = 64;
  h.settings.max_header_bytes = 256;
  h.settings.max_headers = 4;
  h.settings.max_body_bytes = 100;
  auto c = h.connect_tcp();
  c->send(GetParam().request);
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  const auto r = parse_responses(c->received);
  ASSERT_EQ(r.size(), 1u) << c->received;
  EXPECT_EQ(r[0].status, GetParam().status);
  EXPECT_EQ(r[0].headers["connection"], "close");
  EXPECT_EQ(r[0].headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_TRUE(h.opener.scopes.empty());  // no app saw it
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Http1Rejects,
    ::testing::Values(
        BadRequestCase{"malformed", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
        BadRequestCase{"te_and_cl", "POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        BadRequestCase{"dup_cl", "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 400},
        BadRequestCase{"bad_cl", "POST / HTTP/1.1\r\nContent-Length: 2x\r\n\r\nab", 400},
        BadRequestCase{"obs_fold", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400},
        BadRequestCase{"space_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        BadRequestCase{"te_not_last", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
        BadRequestCase{"declared_413", "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
        BadRequestCase{"line_414", "GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 414},
        BadRequestCase{"headers_431", "GET / HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n", 431},
        BadRequestCase{"count_431", "GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n", 431},
        BadRequestCase{"coding_501", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Http1Connection, BadChunkFramingMidBodyIs400AndAppTold) {
  Http1Harness h;
  h.opener.initial_window = 1000;
  auto c = h.connect_tcp();
  c->send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX1\r\nz\r\n");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(c->received.rfind("HTTP/1.1 400", 0), 0u);
  ASSERT_EQ(h.scope().disconnects.size(), 1u);
  EXPECT_EQ(h.scope().disconnects[0], DisconnectReason::protocol_error);
}

struct AppFailureCase {
  const char* name;
  std::function<void(FakeScope&)> act;
  unsigned status;
};

class Http1AppFailures : public ::testing::TestWithParam<AppFailureCase> {};

TEST_P(Http1AppFailures, GatewayAnswers) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  GetParam().act(h.scope());
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
  const auto r = parse_responses(c->received);
  EXPECT_EQ(r[0].status, GetParam().status);
  if (r[0].status == 503) {
    EXPECT_EQ(r[0].headers["retry-after"], "1");
  } else {
    EXPECT_EQ(r[0].headers.count("retry-after"), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Http1AppFailures,
    ::testing::Values(AppFailureCase{"app_done_500", [](FakeScope& s) { s.app_done(false); }, 500},
                      AppFailureCase{"app_raised_500", [](FakeScope& s) { s.app_done(true); }, 500},
                      AppFailureCase{"worker_lost_502",
                                     [](FakeScope& s) { s.upstream_error(workers::UpstreamError::worker_lost); }, 502},
                      AppFailureCase{"queue_full_503",
                                     [](FakeScope& s) { s.upstream_error(workers::UpstreamError::queue_full); }, 503},
                      AppFailureCase{"pool_failed_503",
                                     [](FakeScope& s) { s.upstream_error(workers::UpstreamError::pool_failed); }, 503},
                      AppFailureCase{"timeout_504",
                                     [](FakeScope& s) { s.upstream_error(workers::UpstreamError::request_timeout); },
                                     504}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Http1Connection, RequestTimeoutAnswers504AndTellsTheApp) {
  Http1Harness h;
  h.settings.request_timeout = gateway::Seconds(0.05);
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
  EXPECT_EQ(parse_responses(c->received)[0].status, 504u);
  ASSERT_EQ(h.scope().disconnects.size(), 1u);
  EXPECT_EQ(h.scope().disconnects[0], DisconnectReason::server_error);
}

TEST(Http1Connection, ClientDisconnectMidResponseReportedOnce) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  s.start(200);
  s.send("part", true);
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->received.find("part") != std::string::npos;
  }));
  c->close();
  ASSERT_TRUE(h.run_until([&] { return !s.disconnects.empty(); }));
  s.send("more", true);  // a no-op now
  s.send("end", false);
  h.settle();
  ASSERT_EQ(s.disconnects.size(), 1u);
  EXPECT_EQ(s.disconnects[0], DisconnectReason::client_closed);
  EXPECT_EQ(s.done_calls, 0);
  EXPECT_EQ(h.closed, 1);
}

TEST(Http1Connection, IdleConnectionClosesSilentlyAfterHeaderTimeout) {
  Http1Harness h;
  h.settings.header_timeout = gateway::Seconds(0.03);
  auto c = h.connect_tcp();
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(c->received, "");
}

TEST(Http1Connection, PartialHeadTimesOutWith408) {
  Http1Harness h;
  h.settings.header_timeout = gateway::Seconds(0.03);
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\nHost: x\r\n");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(c->received.rfind("HTTP/1.1 408", 0), 0u);
}

TEST(Http1Connection, KeepAliveTimeoutClosesIdleConnection) {
  Http1Harness h;
  h.settings.keepalive_timeout = gateway::Seconds(0.03);
  h.opener.on_open = [](FakeScope& s) { s.respond(200, "x", {{"content-length", "1"}}); };
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(parse_responses(c->received).size(), 1u);
}

TEST(Http1Connection, StalledBodyTimesOutWith408AndClientTimeout) {
  Http1Harness h;
  h.settings.body_timeout = gateway::Seconds(0.03);
  h.opener.initial_window = 100;
  auto c = h.connect_tcp();
  c->send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  EXPECT_EQ(c->received.rfind("HTTP/1.1 408", 0), 0u);
  EXPECT_EQ(h.scope().body, "abc");
  ASSERT_EQ(h.scope().disconnects.size(), 1u);
  EXPECT_EQ(h.scope().disconnects[0], DisconnectReason::client_timeout);
}

TEST(Http1Connection, AppNotReadingBodyIsNotABodyTimeout) {
  Http1Harness h;
  h.settings.body_timeout = gateway::Seconds(0.01);
  auto c = h.connect_tcp();
  c->send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.run_until([] { return false; }, milliseconds(50));
  EXPECT_TRUE(h.scope().disconnects.empty());  // window 0: waiting on the app
  h.scope().respond(200, "k", {{"content-length", "1"}});
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
}

TEST(Http1Connection, LongStreamingResponseNotCutByIdleTimers) {
  Http1Harness h;
  h.settings.keepalive_timeout = gateway::Seconds(0.01);
  h.settings.header_timeout = gateway::Seconds(0.01);
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  s.start(200);
  for (int i = 0; i < 5; ++i) {
    s.send("tick", true);
    // Each step outlasts the idle timeouts several times over.
    h.run_until([] { return false; }, milliseconds(20));
  }
  s.send("", false);
  ASSERT_TRUE(h.run_until([&] { return s.done_calls == 1; }));
  c->pump();
  EXPECT_EQ(c->count("4\r\ntick\r\n"), 5u);
  EXPECT_FALSE(c->eof());
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/ph1fileXXXXXX";
    const int fd = ::mkstemp(tmpl);
    path = tmpl;
    (void)!::write(fd, content.data(), content.size());
    ::close(fd);
  }
  ~TempFile() { ::unlink(path.c_str()); }
  std::string path;
};

TEST(Http1Connection, SendfileRangeWithContentLength) {
  TempFile f("0123456789abcdef");
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  s.start(200, {{"content-length", "6"}});
  s.send_file(f.path, 4, 6);
  ASSERT_TRUE(h.run_until([&] { return s.done_calls == 1; }));
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
  EXPECT_EQ(parse_responses(c->received)[0].body, "456789");
}

TEST(Http1Connection, SendfileToEndChunkedOverUnix) {
  TempFile f("0123456789abcdef");
  Http1Harness h;
  auto c = h.connect_unix();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  s.start(200);
  s.send("head-", true);
  s.send_file(f.path, 10, -1);
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 1;
  }));
  EXPECT_EQ(parse_responses(c->received)[0].body, "head-abcdef");
}

TEST(Http1Connection, MissingFileBeforeAnyByteIs500) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().start(200, {{"content-length", "5"}});
  h.scope().send_file("/nonexistent/pagi-test-file", 0, -1);
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  const auto r = parse_responses(c->received);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 500u);
}

TEST(Http1Connection, SlowReaderGetsCreditOnlyAsBytesDrain) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  const std::size_t total = 32 * 1024 * 1024;
  const std::string piece(1024 * 1024, 'z');
  s.start(200, {{"content-length", std::to_string(total)}});
  for (std::size_t i = 0; i < total / piece.size(); ++i) s.send(piece, true);
  s.send("", false);
  h.settle();
  // The client reads nothing: the kernel buffers fill and credit stops.
  EXPECT_LT(s.written, total);
  EXPECT_EQ(s.done_calls, 0);
  std::size_t got = 0;
  ASSERT_TRUE(h.run_until(
      [&] {
        c->pump();
        got += c->received.size();
        c->received.clear();
        return s.done_calls == 1;
      },
      milliseconds(20000)));
  EXPECT_EQ(s.written, total);
}

TEST(Http1Connection, WriteTimeoutAbortsStalledResponse) {
  Http1Harness h;
  h.settings.write_timeout = gateway::Seconds(0.05);
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  s.start(200);
  const std::string piece(1024 * 1024, 'z');
  for (int i = 0; i < 32; ++i) s.send(piece, true);
  ASSERT_TRUE(h.run_until([&] { return !s.disconnects.empty(); }));
  EXPECT_EQ(s.disconnects[0], DisconnectReason::write_timeout);
}

}  // namespace
}  // namespace pagi::testing
