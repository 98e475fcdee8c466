#include "gateway/edge/forwarded.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace pagi::gateway::edge {
namespace {

struct Hop {
  std::string_view node;  // for= value (or the XFF item), unquoted
  std::string_view proto;
  std::string_view host;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Splits on `sep` outside double quotes.
template <class F>
void split_outside_quotes(std::string_view s, char sep, F each) {
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted)
      ++i;
    else if (s[i] == '"')
      quoted = !quoted;
    else if (s[i] == sep && !quoted) {
      each(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  each(trim(s.substr(start)));
}

std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

// RFC 7239 node: "192.0.2.1", "192.0.2.1:80", "[2001:db8::1]", "[2001:db8::1]:80".
// A bare v6 address (not allowed by the RFC, but sent by some) is accepted.
bool split_node(std::string_view node, std::string_view& address, std::uint16_t& port) {
  port = 0;
  std::string_view port_text;
  if (!node.empty() && node.front() == '[') {
    const auto close = node.find(']');
    if (close == std::string_view::npos) return false;
    address = node.substr(1, close - 1);
    const auto rest = node.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port_text = rest.substr(1);
    }
  } else if (std::count(node.begin(), node.end(), ':') == 1) {
    const auto colon = node.find(':');
    address = node.substr(0, colon);
    port_text = node.substr(colon + 1);
  } else {
    address = node;
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    // Obfuscated ports ("_abc") are allowed by the RFC: the port is then unknown.
    if (ec == std::errc() && end == port_text.data() + port_text.size() && value <= 65535)
      port = static_cast<std::uint16_t>(value);
  }
  return true;
}

// Hosts are echoed into the app's Host header: keep to what a host[:port] may hold.
bool plausible_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' ||
           c == '_';
  });
}

std::string_view scheme_of(std::string_view proto) {
  if (iequals(proto, "https")) return "https";
  if (iequals(proto, "http")) return "http";
  return {};
}

void parse_forwarded(std::string_view value, std::vector<Hop>& hops) {
  split_outside_quotes(value, ',', [&](std::string_view element) {
    Hop hop;
    split_outside_quotes(element, ';', [&](std::string_view pair) {
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos) return;
      const auto name = trim(pair.substr(0, eq));
      const auto v = unquote(trim(pair.substr(eq + 1)));
      if (iequals(name, "for"))
        hop.node = v;
      else if (iequals(name, "proto"))
        hop.proto = v;
      else if (iequals(name, "host"))
        hop.host = v;
    });
    hops.push_back(hop);
  });
}

void parse_list(std::string_view value, std::vector<std::string_view>& items) {
  split_outside_quotes(value, ',', [&](std::string_view item) { items.push_back(unquote(item)); });
}

}  // namespace

ClientIdentity resolve_client(std::string_view peer_host, std::uint16_t peer_port,
                              std::span<const workers::HeaderView> headers, const CidrSet& trusted,
                              std::size_t max_hops) {
  ClientIdentity id;
  id.host = std::string(peer_host);
  id.port = peer_port;
  if (trusted.empty() || !trusted.contains(peer_host)) return id;

  std::vector<Hop> hops;
  bool have_forwarded = false;
  for (const auto& h : headers)
    if (h.name == "forwarded") have_forwarded = true, parse_forwarded(h.value, hops);
  std::vector<std::string_view> protos, hosts;
  if (!have_forwarded) {
    std::vector<std::string_view> fors;
    for (const auto& h : headers) {
      if (h.name == "x-forwarded-for")
        parse_list(h.value, fors);
      else if (h.name == "x-forwarded-proto")
        parse_list(h.value, protos);
      else if (h.name == "x-forwarded-host")
        parse_list(h.value, hosts);
    }
    for (auto f : fors) hops.push_back(Hop{f, {}, {}});
  }
  if (hops.empty() && protos.empty() && hosts.empty()) return id;
  id.from_proxy = true;

  // Right to left: the nearest proxy's report first.
  const std::size_t n = hops.size();
  const std::size_t limit = std::min(n, max_hops);
  std::size_t accepted = n;  // index of the hop that named the client; n = none
  for (std::size_t k = 0; k < limit; ++k) {
    const std::size_t i = n - 1 - k;
    std::string_view address;
    std::uint16_t port = 0;
    if (!split_node(hops[i].node, address, port)) break;
    const auto ip = parse_ip(address);
    if (!ip) break;  // "unknown", obfuscated or garbage: stop at the last trusted hop
    id.host = ip->text();
    id.port = port;
    accepted = i;
    if (!trusted.contains(*ip)) break;
  }

  // The scheme and host the client used, as reported by the proxy that
  // named it (X-Forwarded-* lists aligned with X-Forwarded-For when they
  // have as many items; otherwise the nearest proxy's, the rightmost).
  std::string_view proto, host;
  if (have_forwarded) {
    if (accepted < n) proto = hops[accepted].proto, host = hops[accepted].host;
  } else {
    auto pick = [&](const std::vector<std::string_view>& list) -> std::string_view {
      if (list.empty()) return {};
      if (list.size() == n && accepted < n) return list[accepted];
      return list.back();
    };
    proto = pick(protos);
    host = pick(hosts);
  }
  id.scheme = std::string(scheme_of(trim(proto)));
  host = trim(host);
  if (plausible_host(host)) id.forwarded_host = std::string(host);
  return id;
}

}  // namespace pagi::gateway::edge
