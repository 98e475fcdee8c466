// One steady_timer serving every deadline of a connection (STYLE.md 7): it
// waits for the earliest pending deadline. Used by the HTTP/1 connection and
// the WebSocket session, whose deadlines are plain optional time points they
// own.
//
// Cheap re-arming: on the hot path every re-arm moves the earliest deadline
// later (a request pushes the idle deadline back, a write the write
// deadline). Cancelling the Asio wait and starting a new one for each (a
// timer-queue removal and insertion, a handler run with operation_aborted,
// a handler allocation) was a measurable share of a hello request. So a
// later deadline only updates the stored one; the running wait stays, and
// when it fires early it waits again for the stored deadline. The wait is
// cancelled and restarted only for an earlier deadline; with none left it
// is kept, and ends when it fires. cancel() ends it at once.
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

  // Waits for the earliest of `deadlines` (none: no wait). `make_handler()`
  // returns the callable run when that deadline passes; it must keep the
  // timer's owner alive (a shared_ptr capture), since the wait may outlast
  // every other reference. It is called only when a new wait starts, so a
  // re-arm that keeps the running wait costs no handler.
  template <class MakeHandler>
  void rearm(std::initializer_list<const Deadline*> deadlines, MakeHandler make_handler) {
    Deadline next;
    for (const Deadline* d : deadlines)
      if (*d && (!next || **d < *next)) next = **d;
    if (next == armed_) return;
    armed_ = next;
    // None: the running wait stays and ends quietly when it fires. An HTTP/1
    // exchange has no deadline of its own while the app works, so cancelling
    // here and starting a wait again at the response cost two timer-queue
    // operations and two handler runs per request.
    if (!next) return;
    // The running wait fires no later than `next`: it re-waits then.
    if (waiting_ && timer_.expiry() <= *next) return;
    if (waiting_) cancel_wait();
    start_wait(*next, make_handler());
  }

  void cancel() {
    armed_.reset();
    if (waiting_) cancel_wait();
  }

  // For tests: an Asio wait is pending, and until when.
  bool waiting() const { return waiting_; }
  Clock::time_point wait_expiry() const { return timer_.expiry(); }

 private:
  template <class Handler>
  void start_wait(Clock::time_point at, Handler on_expiry) {
    waiting_ = true;
    timer_.expires_at(at);
    timer_.async_wait(
        [this, gen = generation_, on_expiry = std::move(on_expiry)](const boost::system::error_code& ec) mutable {
          if (gen != generation_) return;  // cancelled
          waiting_ = false;
          if (ec || !armed_) return;
          // Woken for a deadline that has moved later since: wait on.
          if (*armed_ > Clock::now()) return start_wait(*armed_, std::move(on_expiry));
          armed_.reset();
          on_expiry();
        });
  }

  void cancel_wait() {
    waiting_ = false;
    ++generation_;  // a completion already queued is stale
    timer_.cancel();
  }

  boost::asio::steady_timer timer_;
  Deadline armed_;  // the deadline waited for
  std::uint64_t generation_ = 0;
  bool waiting_ = false;
};

}  // namespace pagi::gateway
