// Fuzzes the WebSocket frame decoder (gateway/websocket/frame_codec) on
// arbitrary client bytes: the input is the byte stream after the handshake.
// It is replayed whole and then in pieces of 1 and 7 bytes, and the events
// must be the same whatever the split (the decoder streams payloads). Every
// text message must be valid UTF-8, control payloads at most 125 bytes, and
// a failed decoder must stay failed. Seeds in corpus/websocket_frame are
// raw frame streams (tests/fuzz/gen_websocket_frame_corpus.py writes them).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/websocket/frame_codec.hpp"
#include "protocol/utf8.hpp"

namespace {

using pagi::gateway::websocket::FrameDecoder;
using pagi::gateway::websocket::FrameLimits;
using K = FrameDecoder::Kind;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string replay(std::string_view stream, std::size_t step) {
  FrameDecoder decoder(FrameLimits{4096, 1024});
  std::string log;  // a transcript of events, compared across splits
  std::string pending;
  std::size_t pos = 0;
  bool failed = false;
  while (pos < stream.size() && !failed) {
    const std::size_t n = step == 0 ? stream.size() : std::min(step, stream.size() - pos);
    pending.append(stream.substr(pos, n));
    pos += n;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      const auto ev = decoder.feed(pending);
      check(ev.consumed <= pending.size());
      pending.erase(0, ev.consumed);
      if (ev.kind == K::need_more) break;
      log.push_back(static_cast<char>('0' + static_cast<int>(ev.kind)));
      switch (ev.kind) {
        case K::message:
          check(ev.payload.size() <= 4096);
          if (ev.text) check(pagi::protocol::valid_utf8(ev.payload));
          log.append(ev.payload);
          break;
        case K::ping:
        case K::pong:
          check(ev.payload.size() <= 125);
          log.append(ev.payload);
          break;
        case K::close:
          check(ev.reason.size() <= 123);
          check(pagi::protocol::valid_utf8(ev.reason));
          log.append(std::to_string(ev.code));
          break;
        case K::error:
          check(pagi::gateway::websocket::close_code_for(ev.error) >= 1002);
          check(decoder.feed("\x81\x80\0\0\0\0").kind == K::error);  // stays failed
          failed = true;
          break;
        case K::need_more: break;
      }
      if (failed) break;
    }
  }
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  const std::string whole = replay(stream, 0);
  check(replay(stream, 1) == whole);
  check(replay(stream, 7) == whole);
  return 0;
}
