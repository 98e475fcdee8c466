#include "gateway/edge/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace pagi::gateway::edge {

RateLimiter::Lru::iterator RateLimiter::touch(std::string_view key, Clock::time_point now) {
  if (const auto it = index_.find(key); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    auto& e = *it->second;
    const double elapsed = std::chrono::duration<double>(now - e.updated).count();
    if (elapsed > 0) {
      e.tokens = std::min(settings_.burst, e.tokens + elapsed * settings_.rate);
      e.updated = now;
    }
    return it->second;
  }
  if (index_.size() >= settings_.max_keys && !lru_.empty()) {
    index_.erase(std::string_view(lru_.back().key));
    lru_.pop_back();
  }
  lru_.push_front(Entry{std::string(key), settings_.burst, now});
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
  return lru_.begin();
}

RateLimiter::Decision RateLimiter::check(std::string_view key, Clock::time_point now) {
  const auto& e = *touch(key, now);
  Decision d;
  d.allowed = e.tokens >= 1.0;
  d.remaining = std::floor(std::max(0.0, d.allowed ? e.tokens - 1.0 : e.tokens));
  d.retry_after = d.allowed ? 0 : (1.0 - e.tokens) / settings_.rate;
  const double after = d.allowed ? e.tokens - 1.0 : e.tokens;
  d.reset = (settings_.burst - after) / settings_.rate;
  return d;
}

void RateLimiter::commit(std::string_view key) {
  if (const auto it = index_.find(key); it != index_.end())
    it->second->tokens = std::max(0.0, it->second->tokens - 1.0);
}

}  // namespace pagi::gateway::edge
