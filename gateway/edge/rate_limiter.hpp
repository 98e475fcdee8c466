// One rate limit (`rate_limits.<name>`): a token bucket per key value
// (client address, header value or route), refilled at `rate` tokens per
// second up to `burst`. Sans-I/O: the caller passes the time.
//
// The key table is bounded: at `max_keys` the least recently used key is
// evicted (a forgotten key starts again with a full bucket, which errs on
// the side of letting a request through, never of blocking one). Memory:
// about entry_overhead_bytes + key length per key, so at most
// max_keys * (entry_overhead_bytes + longest key) per limit.
//
// State is per limit and per gateway process: two limits never share
// buckets, and a cluster of gateways needs an external limiter
// (docs/edge.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/edge/settings/edge_settings.hpp"

namespace pagi::gateway::edge {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // Rough per-key cost: list node, hash node and bucket, bookkeeping.
  static constexpr std::size_t entry_overhead_bytes = 128;

  explicit RateLimiter(const RateLimitSettings& settings) : settings_(settings) {}

  struct Decision {
    bool allowed = true;
    double remaining = 0;    // whole tokens left after this request
    double retry_after = 0;  // seconds until one token (denied only)
    double reset = 0;        // seconds until the bucket is full again
  };

  // Whether a request with `key` may pass now; does not take a token.
  Decision check(std::string_view key, Clock::time_point now);
  // Takes the token check() found (call only after an allowed check).
  void commit(std::string_view key);

  const RateLimitSettings& settings() const { return settings_; }
  std::size_t size() const { return index_.size(); }

 private:
  struct Entry {
    std::string key;
    double tokens = 0;
    Clock::time_point updated;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using Lru = std::list<Entry>;  // front = most recently used

  Lru::iterator touch(std::string_view key, Clock::time_point now);

  RateLimitSettings settings_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator, Hash, std::equal_to<>> index_;  // views into lru_ keys
};

}  // namespace pagi::gateway::edge
