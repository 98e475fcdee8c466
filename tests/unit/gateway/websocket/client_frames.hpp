// Builds client (masked) WebSocket frames for tests, byte by byte, so a test
// can also produce what a conforming client never would.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pagi::testing {

struct ClientFrame {
  std::uint8_t opcode = 0x1;
  bool fin = true;
  std::uint8_t rsv = 0;  // bits 0x70
  bool masked = true;
  std::string payload;
  int length_form = 0;  // 0: shortest; 126 / 127 force that form
  std::uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
};

inline std::string encode(const ClientFrame& f) {
  std::string out;
  out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv & 0x70) | (f.opcode & 0x0F)));
  const std::uint64_t n = f.payload.size();
  const std::uint8_t m = f.masked ? 0x80 : 0;
  int form = f.length_form;
  if (form == 0) form = n < 126 ? 0 : n <= 0xFFFF ? 126 : 127;
  if (form == 0) {
    out.push_back(static_cast<char>(m | n));
  } else if (form == 126) {
    out.push_back(static_cast<char>(m | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(m | 127));
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>((n >> s) & 0xFF));
  }
  if (f.masked) out.append(reinterpret_cast<const char*>(f.mask), 4);
  for (std::size_t i = 0; i < f.payload.size(); ++i)
    out.push_back(static_cast<char>(f.payload[i] ^ (f.masked ? f.mask[i % 4] : 0)));
  return out;
}

inline std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true) {
  ClientFrame f;
  f.opcode = opcode;
  f.payload = std::string(payload);
  f.fin = fin;
  return encode(f);
}

inline std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason);
  return p;
}

}  // namespace pagi::testing
