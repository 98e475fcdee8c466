// IPv4/IPv6 addresses and CIDR prefixes, and an ordered rule list matched by
// a binary prefix trie. Every address is held as 16 bytes: IPv4 as its
// IPv4-mapped IPv6 form (::ffff:a.b.c.d), so a v4 rule also matches a v4
// client seen on a dual-stack socket and "::ffff:0:0/96" matches all of v4.
//
// Parsing is strict and loud: a malformed address, a prefix length out of
// range, a zone id or host bits set beyond the prefix are errors, never a
// silent match-all or match-none (the failure mode this module exists to
// avoid).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pagi::gateway::edge {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // network order; v4 as ::ffff:a.b.c.d
  bool is_v4() const;
  bool operator==(const IpAddress&) const = default;
  std::string text() const;  // "10.0.0.1" for v4 (mapped or not), "2001:db8::1" for v6
};

// "10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1", and "[2001:db8::1]".
// nullopt for anything else (zone ids, ports, hostnames, leading/trailing space).
std::optional<IpAddress> parse_ip(std::string_view text);

struct Cidr {
  IpAddress base;
  std::uint8_t bits = 128;  // prefix length in the 128-bit space (v4 /n is 96+n)
  std::string text;         // as written, for messages
  bool contains(const IpAddress& address) const;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (/32 or /128). Returns the
// prefix or, in `error`, why not (for a ConfigError with file:line).
std::optional<Cidr> parse_cidr(std::string_view text, std::string& error);

// An ordered list of prefixes, each with a value; lookup returns the value
// of the FIRST prefix in list order that contains the address (firewall
// semantics), in O(128) whatever the list length: every trie node keeps the
// lowest list index of the prefixes ending there, and a lookup takes the
// lowest index along its path.
class PrefixTrie {
 public:
  static constexpr std::uint32_t no_match = std::numeric_limits<std::uint32_t>::max();

  // Appends a prefix; its index is the number of prefixes added before it.
  void add(const Cidr& prefix);
  // Index of the first added prefix containing `address`, or no_match.
  std::uint32_t first_match(const IpAddress& address) const;
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  struct Node {
    std::uint32_t child[2] = {0, 0};  // 0 = none (the root is never a child)
    std::uint32_t first = no_match;
  };
  std::vector<Node> nodes_{Node{}};
  std::uint32_t count_ = 0;
};

// A set of prefixes (trusted proxies, maintenance bypass).
class CidrSet {
 public:
  CidrSet() = default;
  explicit CidrSet(const std::vector<Cidr>& prefixes) {
    for (const auto& p : prefixes) trie_.add(p);
  }
  bool contains(const IpAddress& address) const { return trie_.first_match(address) != PrefixTrie::no_match; }
  bool contains(std::string_view text) const {
    const auto ip = parse_ip(text);
    return ip && contains(*ip);
  }
  bool empty() const { return trie_.empty(); }

 private:
  PrefixTrie trie_;
};

}  // namespace pagi::gateway::edge
