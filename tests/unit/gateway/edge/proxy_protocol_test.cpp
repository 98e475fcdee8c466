#include "gateway/edge/proxy_protocol.hpp"

#include <gtest/gtest.h>

namespace pagi::gateway::edge {
namespace {

TEST(ProxyProtocol, V1Tcp4) {
  const auto r = parse_proxy_header("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n");
  ASSERT_EQ(r.status, ProxyParseStatus::done);
  EXPECT_EQ(r.length, 45u);
  EXPECT_TRUE(r.header.has_address);
  EXPECT_EQ(r.header.source_host, "192.0.2.1");
  EXPECT_EQ(r.header.source_port, 56324);
  EXPECT_EQ(r.header.destination_port, 443);
}

TEST(ProxyProtocol, V1Tcp6AndUnknown) {
  const auto r = parse_proxy_header("PROXY TCP6 2001:db8::1 ::1 1 2\r\n");
  ASSERT_EQ(r.status, ProxyParseStatus::done);
  EXPECT_EQ(r.header.source_host, "2001:db8::1");
  const auto u = parse_proxy_header("PROXY UNKNOWN ffff:f::1 ::1 1 2\r\n");
  ASSERT_EQ(u.status, ProxyParseStatus::done);
  EXPECT_FALSE(u.header.has_address);
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN\r\n").status, ProxyParseStatus::done);
}

TEST(ProxyProtocol, V1NeedsMoreUntilLf) {
  EXPECT_EQ(parse_proxy_header("").status, ProxyParseStatus::need_more);
  EXPECT_EQ(parse_proxy_header("").length, 6u);
  EXPECT_EQ(parse_proxy_header("PRO").status, ProxyParseStatus::need_more);
  const auto r = parse_proxy_header("PROXY TCP4 1.2.3.4");
  EXPECT_EQ(r.status, ProxyParseStatus::need_more);
  EXPECT_EQ(r.length, 0u);
}

TEST(ProxyProtocol, V1Malformed) {
  for (std::string_view bad :
       {"GET / HTTP/1.1\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
        "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
        "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"}) {
    EXPECT_EQ(parse_proxy_header(bad).status, ProxyParseStatus::malformed) << bad;
  }
  const std::string long_line = "PROXY " + std::string(200, 'A');
  EXPECT_EQ(parse_proxy_header(long_line).status, ProxyParseStatus::malformed);
}

std::string v2(unsigned char ver_cmd, unsigned char fam, std::string body) {
  std::string out("\r\n\r\n\0\r\nQUIT\n", 12);
  out += static_cast<char>(ver_cmd);
  out += static_cast<char>(fam);
  out += static_cast<char>(body.size() >> 8);
  out += static_cast<char>(body.size() & 0xff);
  return out + body;
}

TEST(ProxyProtocol, V2Tcp4WithTlvs) {
  std::string body = {char(192), 0, 2, 1, char(198), 51, 100, 2, char(0xdc), 0x04, 0x01, char(0xbb)};
  body += std::string("\x04\x00\x02xy", 5);  // a TLV, ignored
  const auto bytes = v2(0x21, 0x11, body) + "GET /";
  EXPECT_EQ(parse_proxy_header(bytes.substr(0, 10)).length, 16u);
  EXPECT_EQ(parse_proxy_header(bytes.substr(0, 16)).length, 16u + body.size());
  const auto r = parse_proxy_header(bytes);
  ASSERT_EQ(r.status, ProxyParseStatus::done);
  EXPECT_EQ(r.length, 16u + body.size());
  EXPECT_EQ(r.header.source_host, "192.0.2.1");
  EXPECT_EQ(r.header.source_port, 56324);
  EXPECT_EQ(r.header.destination_port, 443);
}

TEST(ProxyProtocol, V2Tcp6LocalAndUnspec) {
  std::string body(36, '\0');
  body[0] = 0x20, body[1] = 0x01, body[2] = 0x0d, body[3] = char(0xb8), body[15] = 1;
  body[33] = 80;
  const auto r = parse_proxy_header(v2(0x21, 0x21, body));
  ASSERT_EQ(r.status, ProxyParseStatus::done);
  EXPECT_EQ(r.header.source_host, "2001:db8::1");
  EXPECT_EQ(r.header.source_port, 80);
  const auto local = parse_proxy_header(v2(0x20, 0x00, ""));
  ASSERT_EQ(local.status, ProxyParseStatus::done);
  EXPECT_FALSE(local.header.has_address);
  const auto unspec = parse_proxy_header(v2(0x21, 0x00, "abc"));
  ASSERT_EQ(unspec.status, ProxyParseStatus::done);
  EXPECT_FALSE(unspec.header.has_address);
}

TEST(ProxyProtocol, V2Malformed) {
  EXPECT_EQ(parse_proxy_header(v2(0x11, 0x11, std::string(12, '\0'))).status,
            ProxyParseStatus::malformed);  // version 1
  EXPECT_EQ(parse_proxy_header(v2(0x22, 0x11, std::string(12, '\0'))).status,
            ProxyParseStatus::malformed);                                                                   // command 2
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, std::string(4, '\0'))).status, ProxyParseStatus::malformed);  // short
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x21, std::string(12, '\0'))).status, ProxyParseStatus::malformed);
  EXPECT_EQ(parse_proxy_header(std::string("\r\n\r\n\0\r\nQUIX\n", 12)).status, ProxyParseStatus::malformed);
}

}  // namespace
}  // namespace pagi::gateway::edge
