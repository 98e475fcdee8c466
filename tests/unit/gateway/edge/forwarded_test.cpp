#include "gateway/edge/forwarded.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace pagi::gateway::edge {
namespace {

CidrSet trusted(std::initializer_list<const char*> texts) {
  std::vector<Cidr> list;
  for (auto t : texts) {
    std::string e;
    list.push_back(*parse_cidr(t, e));
  }
  return CidrSet(list);
}

using H = workers::HeaderView;

TEST(Forwarded, UntrustedPeerHeadersIgnored) {
  const std::vector<H> headers = {{"x-forwarded-for", "1.2.3.4"}, {"x-forwarded-proto", "https"}};
  const auto id = resolve_client("203.0.113.9", 5000, headers, trusted({"10.0.0.0/8"}), 32);
  EXPECT_EQ(id.host, "203.0.113.9");
  EXPECT_EQ(id.port, 5000);
  EXPECT_EQ(id.scheme, "");
  EXPECT_FALSE(id.from_proxy);
}

TEST(Forwarded, NoTrustedProxiesMeansPeer) {
  const std::vector<H> headers = {{"x-forwarded-for", "1.2.3.4"}};
  EXPECT_EQ(resolve_client("10.0.0.1", 1, headers, CidrSet{}, 32).host, "10.0.0.1");
}

TEST(Forwarded, XffWalksRightToLeftStoppingAtFirstUntrusted) {
  // spoofed, real client, inner proxy; the peer is the outer proxy.
  const std::vector<H> headers = {{"x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2"},
                                  {"x-forwarded-proto", "https"},
                                  {"x-forwarded-host", "example.com"}};
  const auto id = resolve_client("10.0.0.1", 4000, headers, trusted({"10.0.0.0/8"}), 32);
  EXPECT_EQ(id.host, "198.51.100.7");
  EXPECT_EQ(id.port, 0);
  EXPECT_EQ(id.scheme, "https");
  EXPECT_EQ(id.forwarded_host, "example.com");
  EXPECT_TRUE(id.from_proxy);
}

TEST(Forwarded, XffSplitOverSeveralFields) {
  const std::vector<H> headers = {{"x-forwarded-for", "198.51.100.7"}, {"x-forwarded-for", "10.0.0.2"}};
  EXPECT_EQ(resolve_client("10.0.0.1", 1, headers, trusted({"10.0.0.0/8"}), 32).host, "198.51.100.7");
}

TEST(Forwarded, GarbageHopStopsAtLastTrusted) {
  const std::vector<H> headers = {{"x-forwarded-for", "1.2.3.4, evil, 10.0.0.2"}};
  EXPECT_EQ(resolve_client("10.0.0.1", 1, headers, trusted({"10.0.0.0/8"}), 32).host, "10.0.0.2");
  const std::vector<H> unknown = {{"x-forwarded-for", "unknown"}};
  EXPECT_EQ(resolve_client("10.0.0.1", 1, unknown, trusted({"10.0.0.0/8"}), 32).host, "10.0.0.1");
}

TEST(Forwarded, MaxHopsBoundsTheWalk) {
  const std::vector<H> headers = {{"x-forwarded-for", "1.1.1.1, 10.0.0.4, 10.0.0.3, 10.0.0.2"}};
  EXPECT_EQ(resolve_client("10.0.0.1", 1, headers, trusted({"10.0.0.0/8"}), 2).host, "10.0.0.3");
}

TEST(Forwarded, Rfc7239WithV6AndPorts) {
  const std::vector<H> headers = {
      {"forwarded", "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\";proto=https;host=\"a.example\""},
      {"x-forwarded-for", "9.9.9.9"}};  // ignored: Forwarded wins
  const auto id = resolve_client("::1", 1, headers, trusted({"::1"}), 32);
  EXPECT_EQ(id.host, "2001:db8:cafe::17");
  EXPECT_EQ(id.port, 4711);
  EXPECT_EQ(id.scheme, "https");
  EXPECT_EQ(id.forwarded_host, "a.example");
}

TEST(Forwarded, Rfc7239QuotedCommaAndCase) {
  const std::vector<H> headers = {{"forwarded", "For=\"192.0.2.1:80\";by=\"x,y\";Proto=HTTPS"}};
  const auto id = resolve_client("127.0.0.1", 1, headers, trusted({"127.0.0.0/8"}), 32);
  EXPECT_EQ(id.host, "192.0.2.1");
  EXPECT_EQ(id.port, 80);
  EXPECT_EQ(id.scheme, "https");
}

TEST(Forwarded, BadProtoAndHostIgnored) {
  const std::vector<H> headers = {
      {"x-forwarded-for", "192.0.2.1"}, {"x-forwarded-proto", "gopher"}, {"x-forwarded-host", "evil.com\r\nX: y"}};
  const auto id = resolve_client("127.0.0.1", 1, headers, trusted({"127.0.0.1"}), 32);
  EXPECT_EQ(id.host, "192.0.2.1");
  EXPECT_EQ(id.scheme, "");
  EXPECT_EQ(id.forwarded_host, "");
}

TEST(Forwarded, MappedV4PeerIsTrustedByV4Rule) {
  const std::vector<H> headers = {{"x-forwarded-for", "192.0.2.1"}};
  EXPECT_EQ(resolve_client("::ffff:127.0.0.1", 1, headers, trusted({"127.0.0.1"}), 32).host, "192.0.2.1");
}

}  // namespace
}  // namespace pagi::gateway::edge
