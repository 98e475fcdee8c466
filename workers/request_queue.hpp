// Scopes waiting for a free worker slot: a bounded FIFO of scope keys with
// their arrival time. The pool owns one timer for the whole queue, armed at
// next_deadline(); expired entries are popped in order.
//
// Two lanes, one per slot kind (balancer.hpp): a request scope never waits
// behind a stream handshake that waits for a stream slot, nor the other way
// round. FIFO within a lane; capacity and timeout are shared.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "workers/balancer.hpp"

namespace pagi::workers {

class RequestQueue {
 public:
  using Clock = std::chrono::steady_clock;

  RequestQueue(std::size_t capacity, Clock::duration timeout) : capacity_(capacity), timeout_(timeout) {}

  // False when full (the caller answers queue_full).
  bool push(std::uint64_t key, Clock::time_point now, SlotKind kind = SlotKind::request);
  // Oldest waiting key (of any kind); `since` (when given) gets its arrival
  // time.
  std::optional<std::uint64_t> pop(Clock::time_point* since = nullptr);
  // Oldest waiting key of `kind`.
  std::optional<std::uint64_t> pop(SlotKind kind, Clock::time_point* since = nullptr);
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

  std::size_t size() const { return lanes_[0].size() + lanes_[1].size(); }
  bool empty() const { return lanes_[0].empty() && lanes_[1].empty(); }
  bool empty(SlotKind kind) const { return lane(kind).empty(); }
  // Arrival of the oldest key of `kind`; nothing if none waits.
  std::optional<Clock::time_point> oldest(SlotKind kind) const {
    if (lane(kind).empty()) return std::nullopt;
    return lane(kind).front().since;
  }

 private:
  struct Entry {
    std::uint64_t key;
    Clock::time_point since;
  };
  std::deque<Entry>& lane(SlotKind kind) { return lanes_[kind == SlotKind::stream ? 1 : 0]; }
  const std::deque<Entry>& lane(SlotKind kind) const { return lanes_[kind == SlotKind::stream ? 1 : 0]; }
  // The lane whose front arrived first; nullptr if both are empty.
  std::deque<Entry>* oldest_lane();

  std::size_t capacity_;
  Clock::duration timeout_;
  std::deque<Entry> lanes_[2];
};

}  // namespace pagi::workers
