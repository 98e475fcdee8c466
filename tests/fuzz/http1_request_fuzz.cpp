// Fuzzes the HTTP/1 request codec (head_scanner + Beast parser) and scope
// building on arbitrary client bytes. The input is the raw byte stream a
// client sends; it is replayed twice: all at once with an unlimited body
// budget, then one byte at a time with a tiny budget, so split points and
// window stalls are explored by every input. Seeds in corpus/http1_request
// are plain request files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/http1/request_codec.hpp"
#include "gateway/http1/scope_builder.hpp"

namespace {

using pagi::gateway::http1::CodecLimits;
using pagi::gateway::http1::PeerInfo;
using pagi::gateway::http1::RequestCodec;
using pagi::gateway::http1::ScopeBuilder;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void replay(std::string_view stream, std::size_t step, std::size_t budget) {
  const CodecLimits limits{256, 1024, 20, 4096};
  RequestCodec codec(limits);
  ScopeBuilder builder;
  const PeerInfo peer{"127.0.0.1", 1, "127.0.0.1", 2, false};
  std::size_t consumed = 0;
  std::size_t avail = std::min(step, stream.size());
  for (int guard = 0; guard < 1'000'000; ++guard) {
    const auto input = stream.substr(consumed, avail - consumed);
    const auto ev = codec.feed(input, budget);
    check(ev.consumed <= input.size());
    consumed += ev.consumed;
    using K = RequestCodec::EventKind;
    switch (ev.kind) {
      case K::head: {
        const auto& scope = builder.build(codec.head(), peer);
        check(!scope.method.empty());
        break;
      }
      case K::body: check(ev.body.size() <= budget && !ev.body.empty()); break;
      case K::end: codec.next_message(); break;
      case K::error: return;
      case K::blocked:
      case K::need_more:
        if (avail >= stream.size()) return;
        avail = std::min(stream.size(), avail + step);
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  replay(stream, SIZE_MAX, SIZE_MAX);
  replay(stream, 1, 3);
  return 0;
}
