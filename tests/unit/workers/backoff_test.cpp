#include "workers/backoff.hpp"

#include <gtest/gtest.h>

namespace pagi::workers {
namespace {

using D = Backoff::Duration;

TEST(Backoff, DoublesFromFirstUpToMax) {
  Backoff b(D(0.1), D(1.0), 42);
  EXPECT_DOUBLE_EQ(b.peek_base().count(), 0.1);
  const double expected[] = {0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0};
  for (double base : expected) {
    EXPECT_DOUBLE_EQ(b.peek_base().count(), base);
    const double d = b.next().count();
    EXPECT_GE(d, base);
    EXPECT_LE(d, base * (1.0 + Backoff::jitter_fraction) + 1e-12);
  }
  EXPECT_EQ(b.failures(), 7);
}

TEST(Backoff, ResetStartsOver) {
  Backoff b(D(0.5), D(30), 1);
  b.next();
  b.next();
  b.next();
  EXPECT_DOUBLE_EQ(b.peek_base().count(), 4.0);
  b.reset();
  EXPECT_DOUBLE_EQ(b.peek_base().count(), 0.5);
}

TEST(Backoff, JitterVaries) {
  Backoff a(D(1), D(100), 1), b(D(1), D(100), 2);
  bool differs = false;
  for (int i = 0; i < 5; ++i) differs |= a.next() != b.next();
  EXPECT_TRUE(differs);
}

TEST(Backoff, ManyFailuresDoNotOverflow) {
  Backoff b(D(0.1), D(30), 3);
  for (int i = 0; i < 5000; ++i) b.next();
  EXPECT_DOUBLE_EQ(b.peek_base().count(), 30.0);
}

}  // namespace
}  // namespace pagi::workers
