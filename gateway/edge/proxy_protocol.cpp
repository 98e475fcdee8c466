#include "gateway/edge/proxy_protocol.hpp"

#include <charconv>
#include <cstring>
#include <vector>

#include <arpa/inet.h>

#include "gateway/edge/settings/cidr.hpp"

namespace pagi::gateway::edge {
namespace {

constexpr std::string_view v2_signature("\r\n\r\n\0\r\nQUIT\n", 12);
constexpr std::string_view v1_prefix = "PROXY ";

ProxyParseResult malformed() {
  ProxyParseResult r;
  r.status = ProxyParseStatus::malformed;
  return r;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

ProxyParseResult parse_v1(std::string_view bytes) {
  ProxyParseResult r;
  r.v1 = true;
  const auto lf = bytes.find('\n');
  if (lf == std::string_view::npos) {
    if (bytes.size() >= proxy_v1_max_line) return malformed();
    return r;  // need_more, length 0: up to the LF
  }
  if (lf + 1 > proxy_v1_max_line || lf == 0 || bytes[lf - 1] != '\r') return malformed();
  const auto line = bytes.substr(v1_prefix.size(), lf - 1 - v1_prefix.size());
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ' ') {
      fields.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  r.status = ProxyParseStatus::done;
  r.length = lf + 1;
  if (!fields.empty() && fields[0] == "UNKNOWN") return r;  // the rest is to be ignored
  if (fields.size() != 5 || (fields[0] != "TCP4" && fields[0] != "TCP6")) return malformed();
  for (std::size_t i = 1; i < 5; ++i)
    if (fields[i].empty()) return malformed();
  const bool v6 = fields[0] == "TCP6";
  for (int i : {1, 2}) {
    // The family must match: a TCP4 line names dotted quads only.
    const bool has_colon = fields[i].find(':') != std::string_view::npos;
    if (has_colon != v6 || fields[i].front() == '[' || !parse_ip(fields[i])) return malformed();
  }
  if (!parse_port(fields[3], r.header.source_port) || !parse_port(fields[4], r.header.destination_port))
    return malformed();
  r.header.has_address = true;
  r.header.source_host = parse_ip(fields[1])->text();
  r.header.destination_host = parse_ip(fields[2])->text();
  return r;
}

ProxyParseResult parse_v2(std::string_view bytes) {
  ProxyParseResult r;
  if (bytes.size() < 16) {
    r.length = 16;
    return r;
  }
  const auto b = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned version = b[12] >> 4, command = b[12] & 0x0f;
  if (version != 2 || command > 1) return malformed();
  const std::size_t body = (std::size_t{b[14]} << 8) | b[15];
  if (bytes.size() < 16 + body) {
    r.length = 16 + body;
    return r;
  }
  r.status = ProxyParseStatus::done;
  r.length = 16 + body;
  if (command == 0) return r;  // LOCAL: a health check by the proxy itself
  const unsigned family = b[13] >> 4, transport = b[13] & 0x0f;
  const unsigned char* a = b + 16;
  if (transport != 1) return r;  // UNSPEC / DGRAM: addresses not usable, TLVs ignored
  char text[INET6_ADDRSTRLEN] = {};
  if (family == 1) {  // TCP over IPv4: 4+4+2+2
    if (body < 12) return malformed();
    ::inet_ntop(AF_INET, a, text, sizeof text);
    r.header.source_host = text;
    ::inet_ntop(AF_INET, a + 4, text, sizeof text);
    r.header.destination_host = text;
    r.header.source_port = static_cast<std::uint16_t>((a[8] << 8) | a[9]);
    r.header.destination_port = static_cast<std::uint16_t>((a[10] << 8) | a[11]);
  } else if (family == 2) {  // TCP over IPv6: 16+16+2+2
    if (body < 36) return malformed();
    IpAddress src, dst;
    std::memcpy(src.bytes.data(), a, 16);
    std::memcpy(dst.bytes.data(), a + 16, 16);
    r.header.source_host = src.text();
    r.header.destination_host = dst.text();
    r.header.source_port = static_cast<std::uint16_t>((a[32] << 8) | a[33]);
    r.header.destination_port = static_cast<std::uint16_t>((a[34] << 8) | a[35]);
  } else {
    if (family > 3) return malformed();
    return r;  // UNSPEC or AF_UNIX: keep the socket's peer
  }
  r.header.has_address = true;
  return r;
}

}  // namespace

ProxyParseResult parse_proxy_header(std::string_view bytes) {
  // Decide the version on the common prefix of what is there.
  const auto n6 = std::min(bytes.size(), v1_prefix.size());
  if (bytes.substr(0, n6) == v1_prefix.substr(0, n6)) {
    if (bytes.size() < v1_prefix.size()) {
      ProxyParseResult r;
      r.length = v1_prefix.size();
      return r;
    }
    return parse_v1(bytes);
  }
  const auto n12 = std::min(bytes.size(), v2_signature.size());
  if (bytes.substr(0, n12) == v2_signature.substr(0, n12)) return parse_v2(bytes);
  return malformed();
}

}  // namespace pagi::gateway::edge
