#include <gtest/gtest.h>

#include "gateway/config/config.hpp"

namespace pagi::gateway {
namespace {

TEST(ListenAddress, Ipv4) {
  auto a = parse_listen_address("127.0.0.1:8080");
  EXPECT_EQ(a.kind, ListenAddress::Kind::tcp);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(a.text(), "127.0.0.1:8080");
}

TEST(ListenAddress, Ipv6InBrackets) {
  auto a = parse_listen_address("[::1]:443");
  EXPECT_EQ(a.kind, ListenAddress::Kind::tcp);
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 443);
  EXPECT_EQ(a.text(), "[::1]:443");
  EXPECT_EQ(parse_listen_address("[::]:0").text(), "[::]:0");
}

TEST(ListenAddress, UnixSocket) {
  auto a = parse_listen_address("unix:/run/pagi.sock");
  EXPECT_EQ(a.kind, ListenAddress::Kind::unix_socket);
  EXPECT_EQ(a.path, "/run/pagi.sock");
  EXPECT_EQ(a.text(), "unix:/run/pagi.sock");
}

TEST(ListenAddress, ShortFormsAndLocalhost) {
  EXPECT_EQ(parse_listen_address(":8080").text(), "0.0.0.0:8080");
  EXPECT_EQ(parse_listen_address("*:8080").text(), "0.0.0.0:8080");
  EXPECT_EQ(parse_listen_address("localhost:80").text(), "localhost:80");
  EXPECT_EQ(parse_listen_address("0.0.0.0:0").port, 0);
  EXPECT_EQ(parse_listen_address("1.2.3.4:65535").port, 65535);
}

void expect_bad(const std::string& text, const std::string& fragment) {
  try {
    parse_listen_address(text);
    ADD_FAILURE() << text << " was accepted";
  } catch (const ConfigError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("\"" + text + "\""), std::string::npos) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(ListenAddress, BadOnesSayWhy) {
  expect_bad("8080", "host:port");
  expect_bad("127.0.0.1", "host:port");
  expect_bad("127.0.0.1:", "missing port");
  expect_bad("127.0.0.1:65536", "0 to 65535");
  expect_bad("127.0.0.1:-1", "0 to 65535");
  expect_bad("127.0.0.1:80x", "0 to 65535");
  expect_bad("example.com:80", "not resolved");
  expect_bad("300.1.1.1:80", "IPv4");
  expect_bad("::1:8080", "brackets");
  expect_bad("[::1:8080", "]");
  expect_bad("[::1]8080", ":port");
  expect_bad("[zz::1]:80", "not an IPv6");
  expect_bad("unix:", "missing path");
  expect_bad("unix:/" + std::string(200, 'x'), "at most 107");
  expect_bad("", "host:port");
}

}  // namespace
}  // namespace pagi::gateway
