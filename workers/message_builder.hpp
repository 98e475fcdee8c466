// Shared by the frame writers (worker_messages.cpp, stream_messages.cpp):
// sizing and building single-segment messages. Internal to workers/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <capnp/message.h>

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

// Builds a single-segment message, lets `fill` write the envelope, appends it.
template <typename Fill>
void build(std::string& out, std::uint64_t scope, std::size_t payload_words, Fill fill) {
  capnp::MallocMessageBuilder message(static_cast<unsigned>(envelope_words + payload_words),
                                      capnp::AllocationStrategy::FIXED_SIZE);
  auto envelope = message.initRoot<wire::Envelope>();
  envelope.setScope(scope);
  fill(envelope);
  protocol::append_frame(message, out);
}

}  // namespace pagi::workers::messages::detail
