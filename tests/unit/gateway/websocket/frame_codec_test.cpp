#include "gateway/websocket/frame_codec.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "client_frames.hpp"

namespace pagi::gateway::websocket {
namespace {

using testing::ClientFrame;
using testing::close_payload;
using testing::encode;
using testing::frame;
using K = FrameDecoder::Kind;

constexpr FrameLimits kLimits{1024, 512};

struct Decoded {
  K kind;
  bool text = false;
  std::string payload;
  std::uint16_t code = 0;
  std::string reason;
  FrameError error = FrameError::none;
};

// Feeds `bytes` in pieces of `step` (0 = all at once) and collects events.
std::vector<Decoded> decode(std::string_view bytes, std::size_t step = 0, FrameLimits limits = kLimits) {
  FrameDecoder d(limits);
  std::vector<Decoded> out;
  std::string pending;
  std::size_t pos = 0;
  while (pos < bytes.size() || !pending.empty()) {
    const std::size_t n = step == 0 ? bytes.size() - pos : std::min(step, bytes.size() - pos);
    pending.append(bytes.substr(pos, n));
    pos += n;
    for (;;) {
      const auto ev = d.feed(pending);
      pending.erase(0, ev.consumed);
      if (ev.kind == K::need_more) break;
      out.push_back({ev.kind, ev.text, std::string(ev.payload), ev.code, std::string(ev.reason), ev.error});
      if (ev.kind == K::error) return out;
    }
    if (pos >= bytes.size()) break;
  }
  return out;
}

FrameError error_of(std::string_view bytes, FrameLimits limits = kLimits) {
  const auto events = decode(bytes, 0, limits);
  return events.empty() || events.back().kind != K::error ? FrameError::none : events.back().error;
}

TEST(FrameDecoder, TextMessage) {
  const auto ev = decode(frame(0x1, "hello"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, K::message);
  EXPECT_TRUE(ev[0].text);
  EXPECT_EQ(ev[0].payload, "hello");
}

TEST(FrameDecoder, BinaryMessageAllLengthForms) {
  for (std::size_t n : {0u, 125u, 126u, 300u}) {
    std::string payload(n, '\xAB');
    const auto ev = decode(frame(0x2, payload));
    ASSERT_EQ(ev.size(), 1u) << n;
    EXPECT_FALSE(ev[0].text);
    EXPECT_EQ(ev[0].payload, payload);
  }
  ClientFrame f;  // a 64-bit length for a short payload is legal
  f.opcode = 0x2;
  f.payload = "abc";
  f.length_form = 127;
  const auto ev = decode(encode(f));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].payload, "abc");
}

TEST(FrameDecoder, ByteAtATime) {
  const std::string bytes =
      frame(0x1, "fragmented ", false) + frame(0x9, "p") + frame(0x0, "message") + frame(0x2, std::string(200, 'x'));
  const auto ev = decode(bytes, 1);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].kind, K::ping);
  EXPECT_EQ(ev[0].payload, "p");
  EXPECT_EQ(ev[1].kind, K::message);
  EXPECT_EQ(ev[1].payload, "fragmented message");
  EXPECT_EQ(ev[2].payload, std::string(200, 'x'));
}

TEST(FrameDecoder, FragmentsReassembledWithControlFramesBetween) {
  const std::string bytes =
      frame(0x2, "a", false) + frame(0xA, "") + frame(0x0, "b", false) + frame(0x9, "x") + frame(0x0, "c", true);
  const auto ev = decode(bytes);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].kind, K::pong);
  EXPECT_EQ(ev[1].kind, K::ping);
  EXPECT_EQ(ev[2].kind, K::message);
  EXPECT_EQ(ev[2].payload, "abc");
  EXPECT_FALSE(ev[2].text);
}

TEST(FrameDecoder, Close) {
  auto ev = decode(frame(0x8, close_payload(1000, "bye")));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, K::close);
  EXPECT_EQ(ev[0].code, 1000);
  EXPECT_EQ(ev[0].reason, "bye");
  ev = decode(frame(0x8, ""));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].code, 1005);  // no status
  for (std::uint16_t code : {1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999})
    EXPECT_EQ(decode(frame(0x8, close_payload(code)))[0].kind, K::close) << code;
}

TEST(FrameDecoder, BadCloseCodes) {
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    EXPECT_EQ(error_of(frame(0x8, close_payload(code))), FrameError::bad_close_code) << code;
  EXPECT_EQ(error_of(frame(0x8, "x")), FrameError::bad_close_payload);
  EXPECT_EQ(error_of(frame(0x8, close_payload(1000, "\xff"))), FrameError::invalid_utf8);
}

TEST(FrameDecoder, ReservedBitsAndOpcodes) {
  for (std::uint8_t rsv : {0x10, 0x20, 0x40}) {
    ClientFrame f;
    f.rsv = rsv;
    f.payload = "x";
    EXPECT_EQ(error_of(encode(f)), FrameError::reserved_bits);
  }
  for (std::uint8_t op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF})
    EXPECT_EQ(error_of(frame(op, "")), FrameError::unknown_opcode) << int(op);
}

TEST(FrameDecoder, UnmaskedClientFrame) {
  ClientFrame f;
  f.masked = false;
  f.payload = "x";
  EXPECT_EQ(error_of(encode(f)), FrameError::unmasked);
}

TEST(FrameDecoder, ControlFrameRules) {
  EXPECT_EQ(error_of(frame(0x9, std::string(126, 'x'))), FrameError::control_too_long);
  EXPECT_EQ(error_of(frame(0x9, "x", false)), FrameError::control_fragmented);
  EXPECT_EQ(decode(frame(0x9, std::string(125, 'x')))[0].kind, K::ping);
}

TEST(FrameDecoder, ContinuationRules) {
  EXPECT_EQ(error_of(frame(0x0, "x")), FrameError::unexpected_continuation);
  EXPECT_EQ(error_of(frame(0x1, "a", false) + frame(0x1, "b")), FrameError::expected_continuation);
  EXPECT_EQ(error_of(frame(0x2, "a", false) + frame(0x2, "b")), FrameError::expected_continuation);
}

TEST(FrameDecoder, InvalidUtf8) {
  EXPECT_EQ(error_of(frame(0x1, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")),
            FrameError::invalid_utf8);                                            // surrogate
  EXPECT_EQ(error_of(frame(0x1, "\xc0\xaf")), FrameError::invalid_utf8);          // overlong
  EXPECT_EQ(error_of(frame(0x1, "\xf4\x90\x80\x80")), FrameError::invalid_utf8);  // > U+10FFFF
  EXPECT_EQ(error_of(frame(0x1, "ab\xe2\x82")), FrameError::invalid_utf8);        // truncated at message end
  // A sequence split across fragments is fine.
  const auto ev = decode(frame(0x1, "\xe2\x82", false) + frame(0x0, "\xac"));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].payload, "\xe2\x82\xac");
  // Fail fast: the bad byte is reported before the message ends.
  EXPECT_EQ(error_of(frame(0x1, "ok\xff", false)), FrameError::invalid_utf8);
  // Binary is not checked.
  EXPECT_EQ(decode(frame(0x2, "\xff"))[0].kind, K::message);
}

TEST(FrameDecoder, SizeLimits) {
  EXPECT_EQ(error_of(frame(0x2, std::string(513, 'x'))), FrameError::frame_too_big);
  EXPECT_EQ(error_of(frame(0x2, std::string(400, 'x'), false) + frame(0x0, std::string(400, 'x'), false) +
                     frame(0x0, std::string(400, 'x'))),
            FrameError::message_too_big);
  EXPECT_EQ(decode(frame(0x2, std::string(512, 'x')))[0].kind, K::message);
  ClientFrame f;
  f.opcode = 0x2;
  f.payload = "x";
  f.length_form = 127;
  std::string bytes = encode(f);
  bytes[2] = static_cast<char>(0x80);  // top bit of the 64-bit length
  EXPECT_EQ(error_of(bytes, {SIZE_MAX, SIZE_MAX}), FrameError::bad_length);
}

TEST(FrameDecoder, StaysFailed) {
  FrameDecoder d(kLimits);
  EXPECT_EQ(d.feed(frame(0x3, "")).kind, K::error);
  const auto ev = d.feed(frame(0x1, "x"));
  EXPECT_EQ(ev.kind, K::error);
  EXPECT_EQ(ev.consumed, 0u);
}

TEST(FrameDecoder, CloseCodesForErrors) {
  EXPECT_EQ(close_code_for(FrameError::invalid_utf8), 1007);
  EXPECT_EQ(close_code_for(FrameError::message_too_big), 1009);
  EXPECT_EQ(close_code_for(FrameError::frame_too_big), 1009);
  EXPECT_EQ(close_code_for(FrameError::reserved_bits), 1002);
  EXPECT_EQ(close_code_for(FrameError::bad_close_code), 1002);
}

TEST(FrameEncoder, Frames) {
  std::string out;
  append_frame(out, Opcode::text, "hi");
  EXPECT_EQ(out, std::string("\x81\x02hi", 4));
  out.clear();
  append_frame(out, Opcode::binary, std::string(300, 'x'));
  EXPECT_EQ(out.substr(0, 4), std::string("\x82\x7e\x01\x2c", 4));
  EXPECT_EQ(out.size(), 304u);
  EXPECT_EQ(frame_header_size(300), 4u);
  out.clear();
  append_frame(out, Opcode::binary, std::string(70000, 'x'));
  EXPECT_EQ(out.substr(0, 10), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
  out.clear();
  append_close(out, 1000, "");
  EXPECT_EQ(out, std::string("\x88\x02\x03\xe8", 4));
  out.clear();
  append_close(out, 0, "");
  EXPECT_EQ(out, std::string("\x88\x00", 2));
}

TEST(FrameEncoder, CloseReasonCutOnCharacterBoundary) {
  std::string reason;
  for (int i = 0; i < 60; ++i) reason += "\xc3\xa9";  // 120 bytes
  reason += "ab\xe2\x82\xac";                         // 125 bytes: the euro sign must go whole
  std::string out;
  append_close(out, 1000, reason);
  ASSERT_EQ(static_cast<unsigned char>(out[1]), 2u + 122u);
}

}  // namespace
}  // namespace pagi::gateway::websocket
