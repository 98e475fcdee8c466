// One steady_timer serving every deadline of a connection (STYLE.md 7): it is
// re-armed on the earliest pending deadline, and a wake-up made stale by a
// later re-arm is ignored. Used by the HTTP/1 connection and the WebSocket
// session, whose deadlines are plain optional time points they own.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace pagi::gateway {

class DeadlineTimer {
 public:
  using Clock = std::chrono::steady_clock;
  using Deadline = std::optional<Clock::time_point>;

  explicit DeadlineTimer(const boost::asio::any_io_executor& executor) : timer_(executor) {}

  // Waits for the earliest of `deadlines` (none: no wait). `on_expiry` runs
  // when it passes and must keep the timer's owner alive (a shared_ptr
  // capture), since the wait may outlast every other reference.
  template <class Handler>
  void rearm(std::initializer_list<const Deadline*> deadlines, Handler on_expiry) {
    Deadline next;
    for (const Deadline* d : deadlines)
      if (*d && (!next || **d < *next)) next = **d;
    if (next == armed_) return;
    armed_ = next;
    ++generation_;
    if (!next) {
      timer_.cancel();
      return;
    }
    timer_.expires_at(*next);
    timer_.async_wait(
        [this, gen = generation_, on_expiry = std::move(on_expiry)](const boost::system::error_code& ec) mutable {
          if (ec || gen != generation_) return;
          armed_.reset();
          on_expiry();
        });
  }

  void cancel() {
    armed_.reset();
    ++generation_;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  Deadline armed_;
  std::uint64_t generation_ = 0;
};

}  // namespace pagi::gateway
