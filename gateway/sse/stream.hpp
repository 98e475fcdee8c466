// The SSE stream driver (STYLE.md 2, 3): the response mode an HTTP/1 (later
// HTTP/2) exchange switches to on sse.start. It encodes the app's events,
// hands the bytes to its StreamOutput (the exchange, which frames them as
// the body), and runs the stream's one timer: keepalive comments every
// interval without other writes, and the idle timeout. The transport's
// keep-alive and request timers never apply to a started stream.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "gateway/http_settings.hpp"
#include "gateway/sse/stream_output.hpp"
#include "workers/downstream.hpp"

namespace pagi::gateway::sse {

enum class StreamState : std::uint8_t {
  idle,       // not started (no sse.start yet)
  streaming,  // head written, events flowing
  ended,      // sse.close, the app returned, or the transport ended it
};
std::string_view to_string(StreamState s) noexcept;

class Stream {
 public:
  Stream(boost::asio::any_io_executor executor, const HttpSettings& settings, StreamOutput& output);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // The head is queued: events may follow.
  void start();
  // False when the event cannot be encoded (the pool validated it; kept as
  // a second line of defence).
  bool send(const workers::SseEventView& event);
  bool comment(std::string_view text);
  // interval 0 stops; last wins.
  void keepalive(std::uint32_t interval_ms, std::string_view comment);
  // No more writes; timers off. Idempotent.
  void end();
  StreamState state() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pagi::gateway::sse
