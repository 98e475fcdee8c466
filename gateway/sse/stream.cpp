#include "gateway/sse/stream.hpp"

#include <optional>

#include <boost/asio/steady_timer.hpp>

#include "gateway/sse/encoder.hpp"

namespace pagi::gateway::sse {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string_view to_string(StreamState s) noexcept {
  switch (s) {
    case StreamState::idle: return "idle";
    case StreamState::streaming: return "streaming";
    case StreamState::ended: return "ended";
  }
  return "?";
}

// Shared with the timer's handler by weak_ptr, so a stream destroyed with
// a wait pending is never touched.
struct Stream::Impl : std::enable_shared_from_this<Stream::Impl> {
  Impl(asio::any_io_executor ex, const HttpSettings& s, StreamOutput& o) : timer(ex), settings(s), output(&o) {}

  asio::steady_timer timer;
  HttpSettings settings;
  StreamOutput* output;
  StreamState state = StreamState::idle;
  std::uint32_t keepalive_ms = 0;
  std::string keepalive_comment;
  std::optional<Clock::time_point> keepalive_at, idle_at, armed;
  std::uint64_t generation = 0;
  std::string scratch;

  // Any write: the keepalive waits a whole interval again, idle restarts.
  void wrote() {
    const auto now = Clock::now();
    if (keepalive_ms > 0) keepalive_at = now + std::chrono::milliseconds(keepalive_ms);
    if (settings.sse_idle_timeout.count() > 0)
      idle_at = now + std::chrono::duration_cast<Clock::duration>(settings.sse_idle_timeout);
    rearm();
  }

  void rearm() {
    std::optional<Clock::time_point> next;
    if (state == StreamState::streaming) {
      for (const auto* d : {&keepalive_at, &idle_at})
        if (*d && (!next || **d < *next)) next = **d;
    }
    if (next == armed) return;
    armed = next;
    ++generation;
    if (!next) {
      timer.cancel();
      return;
    }
    timer.expires_at(*next);
    timer.async_wait([weak = weak_from_this(), gen = generation](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || gen != self->generation) return;
      self->armed.reset();
      self->on_timer();
    });
  }

  void on_timer() {
    if (state != StreamState::streaming) return;
    const auto now = Clock::now();
    if (idle_at && *idle_at <= now) {
      idle_at.reset();
      keepalive_at.reset();
      state = StreamState::ended;
      rearm();
      output->stream_idle();  // may destroy the stream: last
      return;
    }
    if (keepalive_at && *keepalive_at <= now) {
      scratch.clear();
      append_comment(scratch, keepalive_comment);
      output->write_stream_bytes(scratch, 0);
      keepalive_at = now + std::chrono::milliseconds(keepalive_ms);
      // A keepalive comment is not activity for the idle timeout: it would
      // never expire otherwise.
    }
    rearm();
  }
};

Stream::Stream(asio::any_io_executor executor, const HttpSettings& settings, StreamOutput& output)
    : impl_(std::make_shared<Impl>(std::move(executor), settings, output)) {}

Stream::~Stream() {
  impl_->state = StreamState::ended;
  impl_->timer.cancel();
}

void Stream::start() {
  if (impl_->state != StreamState::idle) return;
  impl_->state = StreamState::streaming;
  impl_->wrote();
}

bool Stream::send(const workers::SseEventView& event) {
  if (impl_->state != StreamState::streaming) return false;
  impl_->scratch.clear();
  if (!append_event(impl_->scratch, event)) return false;
  impl_->output->write_stream_bytes(impl_->scratch, event.data.size());
  impl_->wrote();
  return true;
}

bool Stream::comment(std::string_view text) {
  if (impl_->state != StreamState::streaming) return false;
  impl_->scratch.clear();
  if (!append_comment(impl_->scratch, text)) return false;
  impl_->output->write_stream_bytes(impl_->scratch, 0);
  impl_->wrote();
  return true;
}

void Stream::keepalive(std::uint32_t interval_ms, std::string_view comment) {
  impl_->keepalive_ms = interval_ms;
  impl_->keepalive_comment.assign(comment);
  impl_->keepalive_at.reset();
  if (interval_ms > 0) impl_->keepalive_at = Clock::now() + std::chrono::milliseconds(interval_ms);
  impl_->rearm();
}

void Stream::end() {
  impl_->state = StreamState::ended;
  impl_->rearm();
}

StreamState Stream::state() const { return impl_->state; }

}  // namespace pagi::gateway::sse
