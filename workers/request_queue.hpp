// Scopes waiting for a free worker slot: a bounded FIFO of scope keys with
// their arrival time. The pool owns one timer for the whole queue, armed at
// next_deadline(); expired entries are popped in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace pagi::workers {

class RequestQueue {
 public:
  using Clock = std::chrono::steady_clock;

  RequestQueue(std::size_t capacity, Clock::duration timeout)
      : capacity_(capacity), timeout_(timeout) {}

  // False when full (the caller answers queue_full).
  bool push(std::uint64_t key, Clock::time_point now);
  // Oldest waiting key, skipping keys removed meanwhile; `since` (when
  // given) gets its arrival time.
  std::optional<std::uint64_t> pop(Clock::time_point* since = nullptr);
  // Forget a key (its scope went away while waiting). O(n), rare.
  void remove(std::uint64_t key);
  // Keys whose wait reached the timeout at `now`, oldest first, removed.
  std::vector<std::uint64_t> take_expired(Clock::time_point now);
  // When the oldest entry times out; nothing if empty.
  std::optional<Clock::time_point> next_deadline() const;
  // A reload's new limits: a smaller capacity only refuses new entries; a
  // new timeout applies to the waiting ones too.
  void reconfigure(std::size_t capacity, Clock::duration timeout) {
    capacity_ = capacity;
    timeout_ = timeout;
  }
  // Every key, oldest first, removed (used at shutdown).
  std::vector<std::uint64_t> take_all();

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::uint64_t key;
    Clock::time_point since;
  };
  std::size_t capacity_;
  Clock::duration timeout_;
  std::deque<Entry> entries_;
};

}  // namespace pagi::workers
