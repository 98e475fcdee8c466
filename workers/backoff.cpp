#include "workers/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace pagi::workers {

Backoff::Backoff(Duration first, Duration max, std::uint64_t seed)
    : first_(first), max_(std::max(first, max)), rng_(seed) {}

Backoff::Duration Backoff::peek_base() const {
  // 2^failures, computed in doubles and capped before it can overflow.
  const double factor = std::ldexp(1.0, std::min(failures_, 62));
  return std::min(Duration(first_.count() * factor), max_);
}

Backoff::Duration Backoff::next() {
  const Duration base = peek_base();
  ++failures_;
  std::uniform_real_distribution<double> jitter(0.0, jitter_fraction);
  const Duration with_jitter = base * (1.0 + jitter(rng_));
  // Jitter may exceed max only by its own fraction; keep max a hard cap.
  return std::min(with_jitter, max_ * (1.0 + jitter_fraction));
}

}  // namespace pagi::workers
