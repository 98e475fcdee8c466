#include "workers/stream_messages.hpp"

#include <cstring>

#include <capnp/message.h>

#include "protocol/frame_codec.hpp"
#include "protocol/pagi.capnp.h"

namespace pagi::workers::messages {
namespace {

constexpr std::size_t words_for(std::size_t bytes) { return (bytes + 8) / 8 + 1; }
constexpr std::size_t envelope_words = 16;

capnp::Data::Reader as_data(std::string_view s) {
  return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()};
}

template <typename SetText>
void copy_text(std::string_view s, SetText init) {
  auto text = init(static_cast<unsigned>(s.size()));
  if (!s.empty()) std::memcpy(text.begin(), s.data(), s.size());
}

template <typename Fill>
void build(std::string& out, std::uint64_t scope, std::size_t payload_words, Fill fill) {
  capnp::MallocMessageBuilder message(static_cast<unsigned>(envelope_words + payload_words),
                                      capnp::AllocationStrategy::FIXED_SIZE);
  auto envelope = message.initRoot<wire::Envelope>();
  envelope.setScope(scope);
  fill(envelope);
  protocol::append_frame(message, out);
}

}  // namespace

void append_websocket_connect(std::string& out, std::uint64_t scope) {
  build(out, scope, 0, [](wire::Envelope::Builder env) { env.setWebsocketConnect(); });
}

void append_websocket_receive(std::string& out, std::uint64_t scope, bool text, std::string_view payload) {
  build(out, scope, words_for(payload.size()), [&](wire::Envelope::Builder env) {
    auto m = env.initWebsocketReceive();
    m.setIsText(text);
    if (text)
      copy_text(payload, [&](unsigned n) { return m.initText(n); });
    else
      m.setBytes(as_data(payload));
  });
}

void append_websocket_disconnect(std::string& out, std::uint64_t scope, std::uint16_t code,
                                 std::string_view reason) {
  build(out, scope, words_for(reason.size()), [&](wire::Envelope::Builder env) {
    auto c = env.initWebsocketDisconnect();
    c.setCode(code);
    copy_text(reason, [&](unsigned n) { return c.initReason(n); });
  });
}

void append_sse_request(std::string& out, std::uint64_t scope, std::string_view chunk, bool more) {
  build(out, scope, words_for(chunk.size()), [&](wire::Envelope::Builder env) {
    auto b = env.initSseRequest();
    b.setBody(as_data(chunk));
    b.setMore(more);
  });
}

void append_sse_disconnect(std::string& out, std::uint64_t scope, DisconnectReason reason) {
  const std::string_view text = to_string(reason);
  build(out, scope, words_for(text.size()), [&](wire::Envelope::Builder env) {
    auto d = env.initSseDisconnect();
    copy_text(text, [&](unsigned n) { return d.initReason(n); });
  });
}

}  // namespace pagi::workers::messages
