// The transport side of an SSE stream (stream.hpp), in its own light header
// so the HTTP/1 exchange can implement it without pulling in Asio.
#pragma once

#include <cstddef>
#include <string_view>

namespace pagi::gateway::sse {

// What the stream needs from its transport.
class StreamOutput {
 public:
  virtual ~StreamOutput() = default;
  // Event-stream bytes for the body; `credit` of them count against the
  // app's send window and are returned once written.
  virtual void write_stream_bytes(std::string_view bytes, std::size_t credit) = 0;
  // Nothing was written for the idle timeout: end the stream.
  virtual void stream_idle() = 0;
};

}  // namespace pagi::gateway::sse
