// Sans-I/O RFC 6455 frame codec, server side (STYLE.md 1). The decoder is fed
// client bytes and reports one event at a time: a complete message
// (fragments reassembled, text validated as UTF-8), a ping, a pong, a close,
// or the error that fails the connection (with the close code to send). It
// streams payloads, so the caller's read buffer can stay small whatever the
// frame size. The encoder appends unmasked server frames to a buffer.
// No socket, timer or io_context here: the session drives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/websocket/utf8_stream.hpp"

namespace pagi::gateway::websocket {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// RFC 6455 7.4.1 close codes the gateway uses.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t no_status = 1005;  // never on the wire
inline constexpr std::uint16_t abnormal = 1006;   // never on the wire
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;
}  // namespace close_code

// What fails a connection. Each value names the close code sent for it.
enum class FrameError : std::uint8_t {
  none = 0,
  reserved_bits,            // RSV1-3 set without a negotiated extension -> 1002
  unknown_opcode,           // 0x3-0x7, 0xB-0xF -> 1002
  unmasked,                 // client frames must be masked -> 1002
  control_too_long,         // control payload over 125 bytes -> 1002
  control_fragmented,       // control frame without FIN -> 1002
  unexpected_continuation,  // continuation with no message open -> 1002
  expected_continuation,    // a new data frame while a message is open -> 1002
  bad_length,               // 64-bit length with the top bit set -> 1002
  bad_close_payload,        // close payload of 1 byte -> 1002
  bad_close_code,           // a code an endpoint may not send -> 1002
  invalid_utf8,             // text message or close reason -> 1007
  frame_too_big,            // payload over max_frame_size -> 1009
  message_too_big,          // message over max_message_size -> 1009
};
std::string_view to_string(FrameError e) noexcept;
std::uint16_t close_code_for(FrameError e) noexcept;

// A close code a peer may put in a Close frame (RFC 6455 7.4, IANA registry).
bool valid_close_code(std::uint16_t code) noexcept;

struct FrameLimits {
  std::size_t max_message_size;
  std::size_t max_frame_size;
};

class FrameDecoder {
 public:
  enum class Kind : std::uint8_t { need_more, message, ping, pong, close, error };
  struct Event {
    Kind kind = Kind::need_more;
    std::size_t consumed = 0;  // bytes of the input used, whatever the kind
    bool text = false;         // message: text (valid UTF-8) or binary
    std::string_view payload;  // message/ping/pong; valid until the next feed
    std::uint16_t code = 0;    // close: the peer's code, 1005 when none
    std::string_view reason;   // close: the peer's reason (valid UTF-8)
    FrameError error = FrameError::none;
  };

  explicit FrameDecoder(FrameLimits limits) : limits_(limits) {}

  // Feeds client bytes; returns at the first event. Call again with the
  // rest (input.substr(consumed)) until need_more. After an error the
  // decoder stays failed.
  Event feed(std::string_view input);
  // A message is partly received (fragments pending).
  bool mid_message() const { return message_open_; }
  // Between messages, gives back the memory a large message left behind,
  // so an idle connection holds little (payload views die with it).
  void release_buffers() {
    if (message_open_ || in_payload_) return;
    if (message_.capacity() > kKeepCapacity) std::string().swap(message_);
    if (control_.capacity() > kKeepCapacity) std::string().swap(control_);
  }

 private:
  Event fail(FrameError e, std::size_t consumed);
  bool parse_header(std::string_view input, std::size_t& used, FrameError& error);

  // Buffers this small are kept between messages (no allocation per message).
  static constexpr std::size_t kKeepCapacity = 4096;
  FrameLimits limits_;
  bool failed_ = false;
  FrameError error_ = FrameError::none;
  // Current frame.
  bool in_payload_ = false;
  bool fin_ = false;
  Opcode opcode_ = Opcode::continuation;
  std::uint64_t remaining_ = 0;
  std::uint8_t mask_[4] = {};
  std::size_t mask_pos_ = 0;
  // Current message (data frames).
  bool message_open_ = false;
  bool message_text_ = false;
  std::string message_;
  Utf8Stream utf8_;
  // Current control frame.
  std::string control_;
};

// Encoder: appends one unmasked, final frame.
void append_frame(std::string& out, Opcode opcode, std::string_view payload);
// A Close frame; code 0 sends an empty payload. `reason` is cut to fit 123 bytes.
void append_close(std::string& out, std::uint16_t code, std::string_view reason);
// Size of the frame header append_frame writes for a payload of `n` bytes.
std::size_t frame_header_size(std::size_t n) noexcept;

}  // namespace pagi::gateway::websocket
