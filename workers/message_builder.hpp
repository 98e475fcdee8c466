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
  capnp::MallocMessageBuilder message(static_cast<unsigned>(words),
                                      capnp::AllocationStrategy::FIXED_SIZE);
  auto envelope = message.initRoot<wire::Envelope>();
  envelope.setScope(scope);
  fill(envelope);
  protocol::append_frame(message, out);
}

}  // namespace pagi::workers::messages::detail
