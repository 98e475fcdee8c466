#include "gateway/edge/settings/cidr.hpp"

#include <charconv>
#include <cstring>

#include <arpa/inet.h>

namespace pagi::gateway::edge {

namespace {

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool bit_at(const IpAddress& a, unsigned i) { return (a.bytes[i / 8] >> (7 - i % 8)) & 1u; }

}  // namespace

bool IpAddress::is_v4() const { return std::memcmp(bytes.data(), v4_mapped_prefix.data(), 12) == 0; }

std::string IpAddress::text() const {
  char out[INET6_ADDRSTRLEN] = {};
  if (is_v4())
    ::inet_ntop(AF_INET, bytes.data() + 12, out, sizeof out);
  else
    ::inet_ntop(AF_INET6, bytes.data(), out, sizeof out);
  return out;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, text.data(), text.size());
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    std::uint8_t v4[4];
    if (::inet_pton(AF_INET, buf, v4) != 1) return std::nullopt;
    std::memcpy(ip.bytes.data(), v4_mapped_prefix.data(), 12);
    std::memcpy(ip.bytes.data() + 12, v4, 4);
    return ip;
  }
  if (::inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

bool Cidr::contains(const IpAddress& address) const {
  const unsigned whole = bits / 8;
  if (std::memcmp(base.bytes.data(), address.bytes.data(), whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (base.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string& error) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  const auto slash = text.find('/');
  const auto address_text = text.substr(0, slash);
  const auto ip = parse_ip(address_text);
  if (!ip || (address_text.size() && address_text.front() == '[')) {
    error = quoted + " is not an IPv4 or IPv6 address or CIDR prefix";
    return std::nullopt;
  }
  // A v4 prefix counts from bit 96 of the mapped form; "::ffff:a.b.c.d/n"
  // written as v6 counts from 0.
  const bool v4_syntax = address_text.find(':') == std::string_view::npos;
  const unsigned max_bits = v4_syntax ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const auto len_text = text.substr(slash + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), value);
    if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size() || value > max_bits ||
        (len_text.size() > 1 && len_text.front() == '0')) {
      error = quoted + ": prefix length must be 0.." + std::to_string(max_bits);
      return std::nullopt;
    }
    bits = value;
  }
  Cidr cidr;
  cidr.base = *ip;
  cidr.bits = static_cast<std::uint8_t>(v4_syntax ? 96 + bits : bits);
  cidr.text = std::string(text);
  // Host bits set ("10.0.0.1/8") usually means a typo; say so instead of
  // guessing which was meant.
  for (unsigned i = cidr.bits; i < 128; ++i) {
    if (bit_at(cidr.base, i)) {
      IpAddress network = cidr.base;
      for (unsigned j = cidr.bits; j < 128; ++j)
        network.bytes[j / 8] &= static_cast<std::uint8_t>(~(1u << (7 - j % 8)));
      error = quoted + " has bits set after the prefix length (did you mean " + network.text() + "/" +
              std::to_string(bits) + "?)";
      return std::nullopt;
    }
  }
  return cidr;
}

void PrefixTrie::add(const Cidr& prefix) {
  std::uint32_t node = 0;
  for (unsigned i = 0; i < prefix.bits; ++i) {
    const unsigned b = bit_at(prefix.base, i);
    if (nodes_[node].child[b] == 0) {
      nodes_[node].child[b] = static_cast<std::uint32_t>(nodes_.size());
      nodes_.push_back(Node{});
    }
    node = nodes_[node].child[b];
  }
  if (nodes_[node].first == no_match) nodes_[node].first = count_;  // an earlier duplicate wins
  ++count_;
}

std::uint32_t PrefixTrie::first_match(const IpAddress& address) const {
  std::uint32_t best = nodes_[0].first;
  std::uint32_t node = 0;
  for (unsigned i = 0; i < 128; ++i) {
    node = nodes_[node].child[bit_at(address, i)];
    if (node == 0) break;
    if (nodes_[node].first < best) best = nodes_[node].first;
  }
  return best;
}

}  // namespace pagi::gateway::edge
