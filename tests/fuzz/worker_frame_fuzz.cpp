// Fuzzes what the gateway does with bytes from a worker socket: FrameReader
// framing, Cap'n Proto decoding under our limits, and validate_worker_message
// on every frame, followed by the field reads a pool makes afterwards, and
// the body ring's checks of the spans a valid httpResponseBody names (a
// fresh 64 KiB ring per input; the newest few spans held, as by a client).
//
// Input: byte 0 picks the read size the stream is delivered in (0 = all at
// once, else 1..255 bytes per read); bit 0 of byte 1 allows up to 4 segments
// instead of 1; the rest is the stream. gen_worker_frame_corpus.cpp writes
// seeds in this format.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include <kj/exception.h>

#include "protocol/event_validation.hpp"
#include "protocol/frame_codec.hpp"
#include "workers/body_ring.hpp"

namespace {

using pagi::wire::Envelope;

std::size_t consume(capnp::Text::Reader t) { return t.size(); }
std::size_t consume(capnp::Data::Reader d) { return d.size(); }

// Reads what the pool reads after validation; a hostile message may still
// run out of traversal budget here, which must surface as kj::Exception.
std::size_t use(Envelope::Reader m) {
  std::size_t n = m.getScope();
  switch (m.which()) {
    case Envelope::HTTP_RESPONSE_START: {
      auto r = m.getHttpResponseStart();
      for (auto h : r.getHeaders()) n += consume(h);
      return n + r.getStatus();
    }
    case Envelope::HTTP_RESPONSE_BODY: {
      auto b = m.getHttpResponseBody();
      return n + consume(b.getBody()) + consume(b.getFile()) + b.getOffset();
    }
    case Envelope::WEBSOCKET_SEND: {
      auto s = m.getWebsocketSend();
      return n + consume(s.getText()) + consume(s.getBytes());
    }
    case Envelope::SSE_SEND: {
      auto s = m.getSseSend();
      return n + consume(s.getData()) + consume(s.getEvent()) + consume(s.getId());
    }
    case Envelope::HELLO: return n + consume(m.getHello().getSdkName());
    default: return n;
  }
}

// A span the worker names: taken only when the ring's rules allow, and then
// exactly the bytes it claims, inside the mapping.
std::size_t take_span(pagi::workers::BodyRing& ring, std::deque<pagi::protocol::SharedBytes>& held,
                      Envelope::Reader m) {
  if (m.which() != Envelope::HTTP_RESPONSE_BODY) return 0;
  const auto body = m.getHttpResponseBody();
  if (body.getRingLength() == 0) return 0;
  pagi::protocol::SharedBytes span;
  const char* why = nullptr;
  if (!ring.take(body.getRingPosition(), body.getRingLength(), span, why)) return why == nullptr ? 1 : 0;
  if (span.size() != body.getRingLength()) __builtin_trap();
  held.push_back(span);
  if (held.size() > 3) held.pop_front();  // written: released
  return static_cast<unsigned char>(span.view().front());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t read_size = data[0] == 0 ? size : data[0];
  pagi::protocol::FrameLimits limits;
  limits.max_message_bytes = 1 << 20;
  if (data[1] & 1) limits.max_segments = 4;
  data += 2;
  size -= 2;

  std::string ring_error;
  const std::shared_ptr<pagi::workers::BodyRing> ring = pagi::workers::BodyRing::create(64 * 1024, ring_error);
  if (!ring) __builtin_trap();
  std::deque<pagi::protocol::SharedBytes> held;
  pagi::protocol::FrameReader reader(limits);
  pagi::protocol::Frame frame;
  std::error_code ec;
  std::size_t sink = 0;
  while (size > 0 && !ec) {
    auto space = reader.prepare(read_size);
    const std::size_t n = std::min({space.size(), read_size, size});
    std::memcpy(space.data(), data, n);
    reader.commit(n);
    data += n;
    size -= n;
    while (reader.next(frame, ec)) {
      if (frame.bytes().size() != frame.size_bytes()) __builtin_trap();
      if (!pagi::protocol::validate_worker_message(frame.root())) {
        try {
          sink += use(frame.root());
          sink += take_span(*ring, held, frame.root());
        } catch (const kj::Exception&) {
        }
      }
      if (frame.size_bytes() % 16 == 8) {  // sometimes: keep a detached copy
        pagi::protocol::Frame kept = std::move(frame);
        kept.detach();
        sink += kept.root().getScope();
      }
    }
  }
  return sink == 0xdeadbeef ? 0 : 0;
}
