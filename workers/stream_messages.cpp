#include "workers/stream_messages.hpp"

#include <cstring>

#include <capnp/message.h>

#include "protocol/frame_codec.hpp"
#include "protocol/pagi.capnp.h"
#include "workers/message_builder.hpp"

namespace pagi::workers::messages {
using namespace detail;

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

void append_websocket_disconnect(std::string& out, std::uint64_t scope, std::uint16_t code, std::string_view reason) {
  build(out, scope, words_for(reason.size()), [&](wire::Envelope::Builder env) {
    auto c = env.initWebsocketDisconnect();
    c.setCode(code);
    copy_text(reason, [&](unsigned n) { return c.initReason(n); });
  });
}

void append_sse_request(std::string& out, std::uint64_t scope, std::string_view chunk, bool more) {
  build_body(out, scope, chunk, more, [](wire::Envelope::Builder env) { return env.initSseRequest(); });
}

void append_sse_disconnect(std::string& out, std::uint64_t scope, DisconnectReason reason) {
  const std::string_view text = to_string(reason);
  build(out, scope, words_for(text.size()), [&](wire::Envelope::Builder env) {
    auto d = env.initSseDisconnect();
    copy_text(text, [&](unsigned n) { return d.initReason(n); });
  });
}

}  // namespace pagi::workers::messages
