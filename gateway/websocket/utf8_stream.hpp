// Incremental UTF-8 validation (RFC 3629) for text that arrives in pieces:
// a WebSocket text message spread over frames and reads. Fails at the first
// byte that cannot start or continue a valid sequence, so a bad message is
// rejected before the rest of it arrives (Autobahn's "fail fast").
#pragma once

#include <cstdint>
#include <string_view>

namespace pagi::gateway::websocket {

class Utf8Stream {
 public:
  // False once the bytes so far cannot be a prefix of valid UTF-8.
  bool feed(std::string_view bytes) noexcept {
    for (const char c : bytes) {
      const auto b = static_cast<std::uint8_t>(c);
      if (need_ == 0) {
        if (b < 0x80) continue;
        if (b >= 0xC2 && b <= 0xDF)
          begin(1, 0x80, 0xBF);
        else if (b == 0xE0)
          begin(2, 0xA0, 0xBF);  // no overlong 3-byte forms
        else if (b == 0xED)
          begin(2, 0x80, 0x9F);  // no surrogates
        else if (b >= 0xE1 && b <= 0xEF)
          begin(2, 0x80, 0xBF);
        else if (b == 0xF0)
          begin(3, 0x90, 0xBF);  // no overlong 4-byte forms
        else if (b >= 0xF1 && b <= 0xF3)
          begin(3, 0x80, 0xBF);
        else if (b == 0xF4)
          begin(3, 0x80, 0x8F);  // nothing above U+10FFFF
        else
          return false;
        continue;
      }
      if (b < lo_ || b > hi_) return false;
      --need_;
      lo_ = 0x80;
      hi_ = 0xBF;
    }
    return true;
  }
  // True when no sequence is left open.
  bool complete() const noexcept { return need_ == 0; }
  void reset() noexcept { need_ = 0; }

 private:
  void begin(std::uint8_t need, std::uint8_t lo, std::uint8_t hi) noexcept {
    need_ = need;
    lo_ = lo;
    hi_ = hi;
  }
  std::uint8_t need_ = 0;
  std::uint8_t lo_ = 0x80;
  std::uint8_t hi_ = 0xBF;
};

}  // namespace pagi::gateway::websocket
