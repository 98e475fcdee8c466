// PROXY protocol v1 (text) and v2 (binary) header parsing, sans-I/O
// (haproxy's proxy-protocol.txt). The header is read before any HTTP byte,
// so the parser says how many more bytes it needs instead of consuming a
// stream: the reader (proxy_header_reader) then never reads past the header
// and the HTTP connection gets the socket untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pagi::gateway::edge {

struct ProxyHeader {
  bool has_address = false;  // false: LOCAL / UNKNOWN / non-TCP: keep the socket's peer
  std::string source_host;
  std::uint16_t source_port = 0;
  std::string destination_host;
  std::uint16_t destination_port = 0;
};

enum class ProxyParseStatus : std::uint8_t { need_more, done, malformed };

struct ProxyParseResult {
  ProxyParseStatus status = ProxyParseStatus::need_more;
  // need_more: total bytes the header is known to need (v2, or the
  // signature), or 0 for "a v1 line: up to its LF" (read with a peek).
  // done: the header's length.
  std::size_t length = 0;
  bool v1 = false;
  ProxyHeader header;
};

// Longest v1 line, CRLF included (the spec's 107).
inline constexpr std::size_t proxy_v1_max_line = 107;

ProxyParseResult parse_proxy_header(std::string_view bytes);

}  // namespace pagi::gateway::edge
