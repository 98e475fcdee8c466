#include "gateway/edge/settings/cidr.hpp"

#include <gtest/gtest.h>

namespace pagi::gateway::edge {
namespace {

Cidr cidr(std::string_view text) {
  std::string error;
  auto c = parse_cidr(text, error);
  EXPECT_TRUE(c) << text << ": " << error;
  return c.value_or(Cidr{});
}

IpAddress ip(std::string_view text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

TEST(Cidr, ParsesV4AndV6Addresses) {
  EXPECT_TRUE(parse_ip("10.0.0.1"));
  EXPECT_TRUE(parse_ip("2001:db8::1"));
  EXPECT_TRUE(parse_ip("[2001:db8::1]"));
  EXPECT_TRUE(parse_ip("::ffff:10.0.0.1"));
  EXPECT_EQ(ip("::ffff:10.0.0.1"), ip("10.0.0.1"));
  EXPECT_EQ(ip("10.0.0.1").text(), "10.0.0.1");
  EXPECT_EQ(ip("2001:DB8:0::1").text(), "2001:db8::1");
}

TEST(Cidr, RejectsMalformedAddresses) {
  for (auto bad : {"", "10.0.0", "10.0.0.256", "10.0.0.1 ", " 10.0.0.1", "fe80::1%eth0", "2001:db8:::1", "localhost",
                   "10.0.0.1:80", "1.2.3.4.5", "::1/128"}) {
    EXPECT_FALSE(parse_ip(bad)) << bad;
  }
}

TEST(Cidr, RejectsMalformedPrefixesLoudly) {
  for (auto bad : {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/08",
                   "10.0.0.1/8", "nonsense/8", "[::1]/128", "*", "all", "0/0", "10.0.0.0 /8"}) {
    std::string error;
    EXPECT_FALSE(parse_cidr(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string error;
  parse_cidr("10.0.0.1/8", error);
  EXPECT_NE(error.find("did you mean 10.0.0.0/8"), std::string::npos) << error;
}

TEST(Cidr, ContainsRespectsFamilyAndLength) {
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(ip("10.255.1.2")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
  EXPECT_TRUE(cidr("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(cidr("2001:db8::/32").contains(ip("2001:db9::1")));
  // A v6 rule never silently matches v4 and the other way round.
  EXPECT_FALSE(cidr("::/1").contains(ip("10.0.0.1")) && cidr("::/1").contains(ip("8000::1")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("::ffff:192.0.2.1")));
  EXPECT_TRUE(cidr("::ffff:0:0/96").contains(ip("192.0.2.1")));
  EXPECT_TRUE(cidr("::/0").contains(ip("192.0.2.1")));
  EXPECT_TRUE(cidr("::1").contains(ip("::1")));
  EXPECT_FALSE(cidr("::1").contains(ip("::2")));
  EXPECT_TRUE(cidr("10.1.2.3").contains(ip("10.1.2.3")));
  EXPECT_FALSE(cidr("10.1.2.3").contains(ip("10.1.2.4")));
  EXPECT_TRUE(cidr("10.0.0.0/9").contains(ip("10.127.0.1")));
  EXPECT_FALSE(cidr("10.0.0.0/9").contains(ip("10.128.0.1")));
}

TEST(PrefixTrie, FirstAddedMatchWinsNotLongest) {
  PrefixTrie trie;
  trie.add(cidr("10.0.0.0/8"));     // 0
  trie.add(cidr("10.1.0.0/16"));    // 1: shadowed by 0
  trie.add(cidr("2001:db8::/32"));  // 2
  trie.add(cidr("::/0"));           // 3: everything (v4 included, as mapped)
  EXPECT_EQ(trie.first_match(ip("10.1.2.3")), 0u);
  EXPECT_EQ(trie.first_match(ip("2001:db8::5")), 2u);
  EXPECT_EQ(trie.first_match(ip("192.0.2.1")), 3u);
  EXPECT_EQ(trie.first_match(ip("2002::1")), 3u);

  PrefixTrie specific_first;
  specific_first.add(cidr("10.1.0.0/16"));
  specific_first.add(cidr("10.0.0.0/8"));
  EXPECT_EQ(specific_first.first_match(ip("10.1.2.3")), 0u);
  EXPECT_EQ(specific_first.first_match(ip("10.2.2.3")), 1u);
  EXPECT_EQ(specific_first.first_match(ip("11.0.0.1")), PrefixTrie::no_match);
}

TEST(PrefixTrie, EmptyMatchesNothing) {
  PrefixTrie trie;
  EXPECT_EQ(trie.first_match(ip("10.0.0.1")), PrefixTrie::no_match);
  EXPECT_EQ(trie.first_match(ip("::1")), PrefixTrie::no_match);
}

TEST(CidrSet, ContainsTextAddresses) {
  CidrSet set({cidr("127.0.0.0/8"), cidr("::1")});
  EXPECT_TRUE(set.contains("127.0.0.1"));
  EXPECT_TRUE(set.contains("::1"));
  EXPECT_TRUE(set.contains("::ffff:127.0.0.1"));
  EXPECT_FALSE(set.contains("10.0.0.1"));
  EXPECT_FALSE(set.contains("garbage"));
  EXPECT_FALSE(set.contains(""));
}

}  // namespace
}  // namespace pagi::gateway::edge
