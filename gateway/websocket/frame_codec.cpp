#include "gateway/websocket/frame_codec.hpp"

#include <algorithm>

#include "protocol/utf8.hpp"

namespace pagi::gateway::websocket {

std::string_view to_string(FrameError e) noexcept {
  switch (e) {
    case FrameError::none: return "none";
    case FrameError::reserved_bits: return "reserved bits set";
    case FrameError::unknown_opcode: return "unknown opcode";
    case FrameError::unmasked: return "unmasked client frame";
    case FrameError::control_too_long: return "control frame over 125 bytes";
    case FrameError::control_fragmented: return "fragmented control frame";
    case FrameError::unexpected_continuation: return "continuation without a message";
    case FrameError::expected_continuation: return "new message inside a fragmented one";
    case FrameError::bad_length: return "invalid payload length";
    case FrameError::bad_close_payload: return "close payload of one byte";
    case FrameError::bad_close_code: return "invalid close code";
    case FrameError::invalid_utf8: return "invalid UTF-8";
    case FrameError::frame_too_big: return "frame too big";
    case FrameError::message_too_big: return "message too big";
  }
  return "unknown";
}

std::uint16_t close_code_for(FrameError e) noexcept {
  switch (e) {
    case FrameError::invalid_utf8: return close_code::invalid_payload;
    case FrameError::frame_too_big:
    case FrameError::message_too_big: return close_code::message_too_big;
    default: return close_code::protocol_error;
  }
}

bool valid_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

FrameDecoder::Event FrameDecoder::fail(FrameError e, std::size_t consumed) {
  failed_ = true;
  Event ev;
  ev.kind = Kind::error;
  ev.error = e;
  ev.consumed = consumed;
  error_ = e;
  return ev;
}

bool FrameDecoder::parse_header(std::string_view in, std::size_t& used, FrameError& error) {
  error = FrameError::none;
  if (in.size() < 2) return false;
  const auto b0 = static_cast<std::uint8_t>(in[0]);
  const auto b1 = static_cast<std::uint8_t>(in[1]);
  const bool fin = (b0 & 0x80) != 0;
  const std::uint8_t op = b0 & 0x0F;
  if ((b0 & 0x70) != 0) return error = FrameError::reserved_bits, false;
  const bool control = op >= 0x8;
  if (op != 0x0 && op != 0x1 && op != 0x2 && op != 0x8 && op != 0x9 && op != 0xA)
    return error = FrameError::unknown_opcode, false;
  if ((b1 & 0x80) == 0) return error = FrameError::unmasked, false;
  const std::uint8_t len7 = b1 & 0x7F;
  if (control && !fin) return error = FrameError::control_fragmented, false;
  if (control && len7 > 125) return error = FrameError::control_too_long, false;
  if (!control) {
    if (op == 0x0 && !message_open_) return error = FrameError::unexpected_continuation, false;
    if (op != 0x0 && message_open_) return error = FrameError::expected_continuation, false;
  }
  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const std::size_t header = 2 + ext + 4;
  if (in.size() < header) return false;
  std::uint64_t len = len7;
  if (ext > 0) {
    len = 0;
    for (std::size_t i = 0; i < ext; ++i) len = (len << 8) | static_cast<std::uint8_t>(in[2 + i]);
    if (ext == 8 && (len >> 63) != 0) return error = FrameError::bad_length, false;
  }
  if (len > limits_.max_frame_size) return error = FrameError::frame_too_big, false;
  if (!control) {
    const std::uint64_t before = op == 0x0 ? message_.size() : 0;
    if (before + len > limits_.max_message_size) return error = FrameError::message_too_big, false;
  }
  for (std::size_t i = 0; i < 4; ++i) mask_[i] = static_cast<std::uint8_t>(in[2 + ext + i]);
  mask_pos_ = 0;
  fin_ = fin;
  opcode_ = static_cast<Opcode>(op);
  remaining_ = len;
  if (control) {
    control_.clear();
  } else if (op != 0x0) {
    message_open_ = true;
    message_text_ = op == 0x1;
    message_.clear();
    utf8_.reset();
  }
  used = header;
  return true;
}

FrameDecoder::Event FrameDecoder::feed(std::string_view input) {
  if (failed_) return fail(error_, 0);
  std::size_t pos = 0;
  for (;;) {
    if (!in_payload_) {
      std::size_t used = 0;
      FrameError error = FrameError::none;
      if (!parse_header(input.substr(pos), used, error)) {
        if (error != FrameError::none) return fail(error, pos);
        Event ev;
        ev.consumed = pos;
        return ev;
      }
      pos += used;
      in_payload_ = true;
    }
    const bool control = static_cast<std::uint8_t>(opcode_) >= 0x8;
    std::string& target = control ? control_ : message_;
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - pos));
    const std::size_t start = target.size();
    target.append(input.data() + pos, take);
    for (std::size_t i = start; i < target.size(); ++i) {
      target[i] = static_cast<char>(static_cast<std::uint8_t>(target[i]) ^ mask_[mask_pos_]);
      mask_pos_ = (mask_pos_ + 1) & 3;
    }
    pos += take;
    remaining_ -= take;
    if (!control && message_text_ && !utf8_.feed(std::string_view(target).substr(start)))
      return fail(FrameError::invalid_utf8, pos);
    if (remaining_ > 0) {
      Event ev;
      ev.consumed = pos;
      return ev;
    }
    in_payload_ = false;
    Event ev;
    ev.consumed = pos;
    if (control) {
      switch (opcode_) {
        case Opcode::ping:
          ev.kind = Kind::ping;
          ev.payload = control_;
          return ev;
        case Opcode::pong:
          ev.kind = Kind::pong;
          ev.payload = control_;
          return ev;
        default: break;
      }
      // Close.
      if (control_.empty()) {
        ev.kind = Kind::close;
        ev.code = close_code::no_status;
        return ev;
      }
      if (control_.size() == 1) return fail(FrameError::bad_close_payload, pos);
      const auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(control_[0]) << 8) |
                                                   static_cast<std::uint8_t>(control_[1]));
      if (!valid_close_code(code)) return fail(FrameError::bad_close_code, pos);
      const std::string_view reason = std::string_view(control_).substr(2);
      if (!protocol::valid_utf8(reason)) return fail(FrameError::invalid_utf8, pos);
      ev.kind = Kind::close;
      ev.code = code;
      ev.reason = reason;
      return ev;
    }
    if (!fin_) continue;  // more fragments follow
    if (message_text_ && !utf8_.complete()) return fail(FrameError::invalid_utf8, pos);
    message_open_ = false;
    ev.kind = Kind::message;
    ev.text = message_text_;
    ev.payload = message_;
    return ev;
  }
}

std::size_t frame_header_size(std::size_t n) noexcept { return n < 126 ? 2 : n <= 0xFFFF ? 4 : 10; }

void append_frame(std::string& out, Opcode opcode, std::string_view payload) {
  const std::size_t n = payload.size();
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
  out.append(payload);
}

void append_close(std::string& out, std::uint16_t code, std::string_view reason) {
  if (code == 0) {
    append_frame(out, Opcode::close, {});
    return;
  }
  // 125 bytes of control payload: 2 for the code, 123 for the reason, cut
  // on a character boundary.
  if (reason.size() > 123) {
    std::size_t cut = 123;
    while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  append_frame(out, Opcode::close, payload);
}

}  // namespace pagi::gateway::websocket
