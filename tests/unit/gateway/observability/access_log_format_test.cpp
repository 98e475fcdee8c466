#include "gateway/observability/access_log_format.hpp"

#include <stdexcept>

#include <boost/json/src.hpp>  // header-only Boost.JSON, compiled into this test only
#include <gtest/gtest.h>

namespace pagi::gateway::observability {
namespace {

using namespace std::chrono_literals;

// 2026-12-01T03:57:58.123Z
ExchangeRecord::WallClock::time_point fixed_time() {
  return ExchangeRecord::WallClock::time_point(std::chrono::milliseconds(1796097478123LL));
}

ExchangeRecord sample_record() {
  ExchangeRecord r;
  r.client_host = "192.0.2.7";
  r.client_port = 40123;
  r.method = "GET";
  r.raw_path = "/items/42";
  r.query = "page=2";
  r.http_version = "1.1";
  r.request_headers.add("user-agent", "curl/8.0");
  r.request_headers.add("referer", "https://example.test/");
  r.request_id = "req-1";
  r.status = 200;
  r.response_headers.add("content-type", "text/plain");
  r.bytes_in = 120;
  r.bytes_out = 100;
  r.head_bytes_out = 87;
  r.pool = "app";
  r.worker_pid = 4242;
  r.started_wall = fixed_time();
  r.started = ExchangeRecord::SteadyClock::time_point(10s);
  r.response_started = r.started + 1500us;
  r.ended = r.started + 2345us;
  return r;
}

std::string render(std::string_view format, const ExchangeRecord& r) {
  std::string out;
  AccessLogFormat::compile(format).render(r, out);
  return out;
}

TEST(AccessLogFormat, UsesHeadersOnlyWhenAFieldNeedsThem) {
  EXPECT_FALSE(AccessLogFormat::compile("common").uses_headers());
  EXPECT_FALSE(AccessLogFormat::compile("tiny").uses_headers());
  EXPECT_TRUE(AccessLogFormat::compile("combined").uses_headers());
  EXPECT_TRUE(AccessLogFormat::compile("json").uses_headers());
  EXPECT_FALSE(AccessLogFormat::compile("%h %r %s %{pool}x").uses_headers());
  EXPECT_TRUE(AccessLogFormat::compile("%s %{X-Trace}i").uses_headers());
  EXPECT_TRUE(AccessLogFormat::compile("%s %{content-type}o").uses_headers());
}

TEST(AccessLogFormat, CommonIsTheClfLine) {
  EXPECT_EQ(render("common", sample_record()),
            "192.0.2.7 - - [01/Dec/2026:03:57:58 +0000] \"GET /items/42?page=2 HTTP/1.1\" 200 13\n");
}

TEST(AccessLogFormat, CombinedAddsRefererAndUserAgent) {
  EXPECT_EQ(render("combined", sample_record()),
            "192.0.2.7 - - [01/Dec/2026:03:57:58 +0000] \"GET /items/42?page=2 HTTP/1.1\" 200 13 "
            "\"https://example.test/\" \"curl/8.0\"\n");
}

TEST(AccessLogFormat, TinyIsMethodUrlStatusBytesAndMilliseconds) {
  EXPECT_EQ(render("tiny", sample_record()), "GET /items/42?page=2 200 13 - 2.345 ms\n");
}

TEST(AccessLogFormat, ZeroBodyIsADashInClfAndMissingHeadersAreDashes) {
  auto r = sample_record();
  r.bytes_out = r.head_bytes_out;
  r.request_headers.clear();
  EXPECT_EQ(render("%b %B \"%{referer}i\" %{x-none}o", r), "- 0 \"-\" -\n");
}

TEST(AccessLogFormat, CustomAtomsEachRenderTheirField) {
  const auto r = sample_record();
  EXPECT_EQ(render("%h|%m|%U|%q|%H|%s|%B|%O|%I|%D|%T|%{ms}T", r),
            "192.0.2.7|GET|/items/42|?page=2|HTTP/1.1|200|13|100|120|2345|0.002|2.345\n");
  EXPECT_EQ(
      render("%R %P %{pool}x %{worker_pid}x %{scope}x %{disconnect}x %{upstream_ms}x %{upstream_us}x %{gateway}x", r),
      "req-1 4242 app 4242 http - 1.500 1500 0\n");
  EXPECT_EQ(render("%{content-type}o %{User-Agent}i %{iso}t 100%%", r),
            "text/plain curl/8.0 2026-12-01T03:57:58.123Z 100%\n");
}

TEST(AccessLogFormat, RejectedRequestHasDashesAndGatewayFlag) {
  ExchangeRecord r;
  r.client_host = "";
  r.status = 400;
  r.gateway_response = true;
  r.started_wall = fixed_time();
  EXPECT_EQ(render("%h \"%r\" %s %P %{gateway}x", r), "- \"-\" 400 - 1\n");
}

TEST(AccessLogFormat, UnknownAtomsAreRejectedAtCompile) {
  EXPECT_THROW(AccessLogFormat::compile("%Z"), std::invalid_argument);
  EXPECT_THROW(AccessLogFormat::compile("%{nope}x"), std::invalid_argument);
  EXPECT_THROW(AccessLogFormat::compile("%i"), std::invalid_argument);
  EXPECT_THROW(AccessLogFormat::compile("trailing %"), std::invalid_argument);
  EXPECT_THROW(AccessLogFormat::compile("%{open"), std::invalid_argument);
  EXPECT_THROW(AccessLogFormat::compile(""), std::invalid_argument);
}

TEST(AccessLogFormat, TextFormatsEscapeHostileBytes) {
  auto r = sample_record();
  r.raw_path = std::string("/a\"b\\c\n\x01\xff", 10);
  r.request_headers.clear();
  r.request_headers.add("user-agent", "x\" injected=\"1");
  const auto line = render("combined", r);
  EXPECT_NE(line.find("/a\\x22b\\x5cc\\x0a\\x01\\xff"), std::string::npos) << line;
  EXPECT_NE(line.find("\"x\\x22 injected=\\x221\""), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line, whatever the bytes
}

TEST(AccessLogFormat, JsonHasStableFieldsAndTypes) {
  const auto line = render("json", sample_record());
  ASSERT_EQ(line.back(), '\n');
  const auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v.at("time").as_string(), "2026-12-01T03:57:58.123Z");
  EXPECT_EQ(v.at("client").as_string(), "192.0.2.7");
  EXPECT_EQ(v.at("client_port").as_int64(), 40123);
  EXPECT_EQ(v.at("method").as_string(), "GET");
  EXPECT_EQ(v.at("path").as_string(), "/items/42");
  EXPECT_EQ(v.at("query").as_string(), "page=2");
  EXPECT_EQ(v.at("protocol").as_string(), "HTTP/1.1");
  EXPECT_EQ(v.at("status").as_int64(), 200);
  EXPECT_EQ(v.at("bytes_out").as_int64(), 100);
  EXPECT_EQ(v.at("body_bytes").as_int64(), 13);
  EXPECT_EQ(v.at("bytes_in").as_int64(), 120);
  EXPECT_DOUBLE_EQ(v.at("duration_ms").as_double(), 2.345);
  EXPECT_DOUBLE_EQ(v.at("upstream_ms").as_double(), 1.5);
  EXPECT_EQ(v.at("request_id").as_string(), "req-1");
  EXPECT_EQ(v.at("pool").as_string(), "app");
  EXPECT_EQ(v.at("worker_pid").as_int64(), 4242);
  EXPECT_EQ(v.at("scope").as_string(), "http");
  EXPECT_EQ(v.at("transport").as_string(), "http1");
  EXPECT_TRUE(v.at("disconnect").is_null());
  EXPECT_FALSE(v.at("gateway_response").as_bool());
  EXPECT_EQ(v.at("referer").as_string(), "https://example.test/");
  EXPECT_EQ(v.at("user_agent").as_string(), "curl/8.0");
  EXPECT_TRUE(v.at("traceparent").is_null());
  EXPECT_TRUE(v.at("close_code").is_null());
}

TEST(AccessLogFormat, WebSocketCloseCode) {
  auto r = sample_record();
  EXPECT_EQ(render("%{close_code}x", r), "-\n");
  r.scope_type = "websocket";
  r.protocol = "websocket";
  r.status = 101;
  r.close_code = 4000;
  EXPECT_EQ(render("%s %{scope}x %{close_code}x", r), "101 websocket 4000\n");
  const auto v = boost::json::parse(render("json", r)).as_object();
  EXPECT_EQ(v.at("close_code").as_int64(), 4000);
  EXPECT_EQ(v.at("transport").as_string(), "websocket");
}

TEST(AccessLogFormat, JsonSurvivesEveryByteInPathsAndHeaders) {
  auto r = sample_record();
  std::string every;
  for (int c = 0; c < 256; ++c) every.push_back(static_cast<char>(c));
  r.raw_path = every;
  r.query = "\xc3\xa9t\xc3\xa9\xed\xa0\x80";  // UTF-8 "été" plus an encoded surrogate (invalid)
  r.request_headers.clear();
  r.request_headers.add("user-agent", every);
  r.request_headers.add("referer", "\xf0\x9f\x98\x80 ok");  // a valid 4-byte sequence
  r.disconnect_reason = "client_closed";
  const auto line = render("json", r);
  ASSERT_EQ(line.find('\n'), line.size() - 1);
  const auto v = boost::json::parse(line).as_object();
  // Bytes >= 0x80 outside valid UTF-8 come back as the code point of the same value.
  const std::string path(v.at("path").as_string().c_str(), v.at("path").as_string().size());
  std::string expected;
  for (int c = 0; c < 256; ++c) {
    if (c < 0x80) {
      expected.push_back(static_cast<char>(c));
    } else {  // U+0080..U+00FF in UTF-8
      expected.push_back(static_cast<char>(0xc0 | (c >> 6)));
      expected.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  EXPECT_EQ(path, expected);
  EXPECT_EQ(v.at("query").as_string(), "\xc3\xa9t\xc3\xa9\xc3\xad\xc2\xa0\xc2\x80");
  EXPECT_EQ(v.at("referer").as_string(), "\xf0\x9f\x98\x80 ok");
  EXPECT_EQ(v.at("disconnect").as_string(), "client_closed");
}

}  // namespace
}  // namespace pagi::gateway::observability
