// Restart backoff for crashed workers: the delay doubles per consecutive
// failure from `first` up to `max`, with jitter so that workers of a pool
// crashing together do not restart in lockstep. Pure arithmetic, no timers.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace pagi::workers {

class Backoff {
 public:
  using Duration = std::chrono::duration<double>;

  // Jitter adds up to this fraction of the delay (never shortens it, so the
  // documented minimum holds).
  static constexpr double jitter_fraction = 0.2;

  Backoff(Duration first, Duration max, std::uint64_t seed = std::random_device{}());

  // Delay before the next restart; counts one more failure.
  Duration next();
  // Same without jitter (what next() returns before jitter is added).
  Duration peek_base() const;
  // The worker was healthy long enough: start again from `first`.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  Duration first_;
  Duration max_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace pagi::workers
