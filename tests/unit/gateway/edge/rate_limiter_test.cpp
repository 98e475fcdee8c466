#include "gateway/edge/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace pagi::gateway::edge {
namespace {

using Clock = RateLimiter::Clock;
using namespace std::chrono_literals;

RateLimitSettings limit(double rate, double burst, std::size_t max_keys = 1000) {
  RateLimitSettings s;
  s.rate = rate;
  s.burst = burst;
  s.max_keys = max_keys;
  return s;
}

bool take(RateLimiter& r, std::string_view key, Clock::time_point now) {
  const auto d = r.check(key, now);
  if (d.allowed) r.commit(key);
  return d.allowed;
}

TEST(RateLimiter, BurstThenDeniedThenRefilled) {
  RateLimiter r(limit(2, 3));
  const auto t0 = Clock::time_point{} + 100s;
  EXPECT_TRUE(take(r, "a", t0));
  EXPECT_TRUE(take(r, "a", t0));
  EXPECT_TRUE(take(r, "a", t0));
  const auto denied = r.check("a", t0);
  EXPECT_FALSE(denied.allowed);
  EXPECT_NEAR(denied.retry_after, 0.5, 1e-9);
  EXPECT_NEAR(denied.reset, 1.5, 1e-9);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_TRUE(take(r, "a", t0 + 500ms));
  EXPECT_FALSE(take(r, "a", t0 + 500ms));
  // Keys are independent.
  EXPECT_TRUE(take(r, "b", t0));
}

TEST(RateLimiter, RemainingCountsDown) {
  RateLimiter r(limit(1, 5));
  const auto t0 = Clock::time_point{} + 1s;
  EXPECT_EQ(r.check("k", t0).remaining, 4);
  r.commit("k");
  EXPECT_EQ(r.check("k", t0).remaining, 3);
}

TEST(RateLimiter, CheckWithoutCommitTakesNothing) {
  RateLimiter r(limit(1, 1));
  const auto t0 = Clock::time_point{} + 1s;
  EXPECT_TRUE(r.check("k", t0).allowed);
  EXPECT_TRUE(r.check("k", t0).allowed);
  r.commit("k");
  EXPECT_FALSE(r.check("k", t0).allowed);
}

TEST(RateLimiter, KeyTableIsBoundedLru) {
  RateLimiter r(limit(1, 1, 2));
  const auto t0 = Clock::time_point{} + 1s;
  EXPECT_TRUE(take(r, "a", t0));
  EXPECT_TRUE(take(r, "b", t0));
  EXPECT_FALSE(take(r, "a", t0));  // touches a: b is now least recent
  EXPECT_TRUE(take(r, "c", t0));   // evicts b
  EXPECT_EQ(r.size(), 2u);
  EXPECT_FALSE(take(r, "a", t0));  // a survived with its empty bucket
  EXPECT_TRUE(take(r, "b", t0));   // b forgotten: a full bucket again
}

TEST(RateLimiter, TwoLimitersNeverShareState) {
  RateLimiter one(limit(1, 1)), two(limit(1, 1));
  const auto t0 = Clock::time_point{} + 1s;
  EXPECT_TRUE(take(one, "k", t0));
  EXPECT_FALSE(take(one, "k", t0));
  EXPECT_TRUE(take(two, "k", t0));
}

}  // namespace
}  // namespace pagi::gateway::edge
