// Shared by the frame writers (worker_messages.cpp, stream_messages.cpp):
// sizing and building single-segment messages. Internal to workers/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <capnp/message.h>
#include <kj/array.h>

#include "protocol/frame_codec.hpp"
#include "protocol/pagi.capnp.h"

namespace pagi::workers::messages::detail {

// Words a blob takes in a segment: its bytes rounded up, plus its pointer.
constexpr std::size_t words_for(std::size_t bytes) { return (bytes + 8) / 8 + 1; }
// Envelope, its union struct and list headers: generous fixed overhead so
// the message stays in its first segment.
constexpr std::size_t envelope_words = 64;

inline capnp::Data::Reader as_data(std::string_view s) {
  return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()};
}

template <typename SetText>
void copy_text(std::string_view s, SetText init) {
  auto text = init(static_cast<unsigned>(s.size()));
  if (!s.empty()) std::memcpy(text.begin(), s.data(), s.size());
}

// A MessageBuilder whose first segment is given memory (zeroed, word
// aligned): build() points it at the output buffer, so a frame is encoded
// where it will be sent from, without a heap segment and a copy out of it.
// Should the message outgrow it, further segments come from the heap and
// build() flattens the message the ordinary way.
class InPlaceMessageBuilder final : public capnp::MessageBuilder {
 public:
  explicit InPlaceMessageBuilder(kj::ArrayPtr<capnp::word> first) : first_(first) {}
  kj::ArrayPtr<capnp::word> allocateSegment(unsigned minimum) override {
    if (!first_used_ && first_.size() >= minimum) {
      first_used_ = true;
      return first_;
    }
    first_used_ = true;
    more_.push_back(kj::heapArray<capnp::word>(std::max<std::size_t>(minimum, 1024)));
    auto& seg = more_.back();
    std::memset(seg.begin(), 0, seg.size() * sizeof(capnp::word));
    return seg;
  }

 private:
  kj::ArrayPtr<capnp::word> first_;
  bool first_used_ = false;
  std::vector<kj::Array<capnp::word>> more_;
};

// Builds a single-segment message, lets `fill` write the envelope, appends
// it to `out` in stream framing. `out` holds whole frames only, so its end is
// word aligned and the message is built in place (body bytes are copied once,
// from the caller's view into `out`).
template <typename Fill>
void build(std::string& out, std::uint64_t scope, std::size_t payload_words, Fill fill) {
  constexpr std::size_t word = sizeof(capnp::word);
  const std::size_t words = envelope_words + payload_words;
  const std::size_t at = out.size();
  out.resize(at + word * (1 + words));  // zero filled, as a segment must be
  char* segment = out.data() + at + word;
  if (at % word == 0 && reinterpret_cast<std::uintptr_t>(segment) % alignof(capnp::word) == 0) {
    std::string flat;
    try {
      InPlaceMessageBuilder message(kj::arrayPtr(reinterpret_cast<capnp::word*>(segment), words));
      auto envelope = message.initRoot<wire::Envelope>();
      envelope.setScope(scope);
      fill(envelope);
      auto segments = message.getSegmentsForOutput();
      if (segments.size() == 1 && reinterpret_cast<const char*>(segments[0].begin()) == segment) {
        const std::size_t used = segments[0].size();
        const auto count = static_cast<std::uint32_t>(used);
        std::memset(out.data() + at, 0, 4);  // segment count - 1
        for (int i = 0; i < 4; ++i) out[at + 4 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
        out.resize(at + word * (1 + used));
        return;
      }
      protocol::append_frame(message, flat);  // outgrew the estimate: flatten
    } catch (...) {
      out.resize(at);  // as if nothing was appended
      throw;
    }
    out.resize(at);
    out.append(flat);
    return;
  }
  out.resize(at);
  capnp::MallocMessageBuilder message(static_cast<unsigned>(words), capnp::AllocationStrategy::FIXED_SIZE);
  auto envelope = message.initRoot<wire::Envelope>();
  envelope.setScope(scope);
  fill(envelope);
  protocol::append_frame(message, out);
}

// A body-carrying message (http.request, sse.request: a `Body` struct) with
// its bytes appended raw after the capnp-built head instead of copied into a
// zeroed segment: the Body struct is the message's last allocation, so its
// one pointer is the last word, and the body's list pointer is written by
// hand (Cap'n Proto encoding: list pointer, byte elements). The bytes are
// identical to what build() produces (tests/unit/workers/
// worker_messages_test.cpp checks it). `init` selects the union member.
template <typename Init>
void build_body(std::string& out, std::uint64_t scope, std::string_view body, bool more, Init init) {
  constexpr std::size_t word = sizeof(capnp::word);
  static_assert(wire::Body::_capnpPrivate::pointerCount == 1, "Body's only pointer is its bytes");
  constexpr std::size_t max_list = (std::size_t(1) << 29) - 1;  // a list pointer's element count
  if (body.empty() || body.size() > max_list) {                 // the general path
    build(out, scope, words_for(body.size()), [&](wire::Envelope::Builder env) {
      auto b = init(env);
      b.setBody(as_data(body));
      b.setMore(more);
    });
    return;
  }
  capnp::word head[envelope_words] = {};
  capnp::MallocMessageBuilder message(kj::arrayPtr(head, envelope_words), capnp::AllocationStrategy::FIXED_SIZE);
  auto envelope = message.initRoot<wire::Envelope>();
  envelope.setScope(scope);
  init(envelope).setMore(more);
  auto segments = message.getSegmentsForOutput();
  const std::size_t used = segments[0].size();
  if (segments.size() != 1 || used == 0) {  // cannot happen with this schema; stay correct anyway
    build(out, scope, words_for(body.size()), [&](wire::Envelope::Builder env) {
      auto b = init(env);
      b.setBody(as_data(body));
      b.setMore(more);
    });
    return;
  }
  const std::size_t body_words = (body.size() + word - 1) / word;
  const std::uint32_t total = static_cast<std::uint32_t>(used + body_words);
  char frame_head[word] = {0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) frame_head[4 + i] = static_cast<char>((total >> (8 * i)) & 0xff);
  // The pointer word (the segment's last) targets the word right after it.
  const std::uint64_t pointer = 1u | (std::uint64_t(2) << 32) | (std::uint64_t(body.size()) << 35);
  const std::size_t at = out.size();
  out.reserve(at + word * (1 + total));
  out.append(frame_head, word);
  out.append(reinterpret_cast<const char*>(segments[0].begin()), word * (used - 1));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((pointer >> (8 * i)) & 0xff));
  out.append(body);
  out.append(body_words * word - body.size(), '\0');
}

}  // namespace pagi::workers::messages::detail
