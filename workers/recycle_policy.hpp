// When a worker should be recycled: the request count (max_requests plus a
// random jitter), its age (max_lifetime plus jitter) and its memory
// (max_rss over max_rss_samples consecutive samples). Sans-I/O: the pool
// feeds it counts, times and samples and acts on the reason it returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "workers/pool_settings.hpp"

namespace pagi::workers {

// What the pool keeps per worker for supervision.
struct RecycleState {
  std::uint64_t request_limit = 0;  // 0 = none
  std::optional<std::chrono::steady_clock::time_point> lifetime_deadline;
  int rss_over = 0;  // consecutive samples over max_rss
  std::uint64_t last_rss = 0;
  std::uint64_t generation = 0;  // reload generation it was spawned for
  bool retiring = false;         // to be replaced: drained once a replacement is ready
  std::string reason;            // why it is retiring, for the log
};

class RecyclePolicy {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RecyclePolicy(std::uint64_t seed = std::random_device{}()) : rng_(seed) {}

  // Limits for a worker that just became ready, with fresh jitter.
  RecycleState plan(const PoolSettings& settings, Clock::time_point ready_at);
  // After a scope was opened on the worker (the `opened`-th): a reason to
  // recycle, or nothing.
  static std::optional<std::string> after_scope(const RecycleState& state, std::uint64_t opened);
  // A periodic check: age, and a memory sample (nullopt when unknown).
  static std::optional<std::string> on_check(RecycleState& state, const PoolSettings& settings, Clock::time_point now,
                                             std::optional<std::uint64_t> rss);
  // One word for /metrics from a reason above or the pool's request-timeout
  // reason: max_requests, max_lifetime, max_rss, request_timeout, other.
  static std::string_view kind_of(std::string_view reason);

 private:
  std::mt19937_64 rng_;
};

}  // namespace pagi::workers
