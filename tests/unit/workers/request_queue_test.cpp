#include "workers/request_queue.hpp"

#include <gtest/gtest.h>

namespace pagi::workers {
namespace {

using namespace std::chrono_literals;
using Clock = RequestQueue::Clock;

TEST(RequestQueue, FifoAndBounded) {
  RequestQueue q(2, 1s);
  const auto t0 = Clock::time_point{} + 100s;
  EXPECT_TRUE(q.push(1, t0));
  EXPECT_TRUE(q.push(2, t0));
  EXPECT_FALSE(q.push(3, t0));
  EXPECT_EQ(q.pop(), 1u);
  EXPECT_TRUE(q.push(3, t0));
  EXPECT_EQ(q.pop(), 2u);
  EXPECT_EQ(q.pop(), 3u);
  EXPECT_EQ(q.pop(), std::nullopt);
}

TEST(RequestQueue, ExpiresOldestFirst) {
  RequestQueue q(10, 1s);
  const auto t0 = Clock::time_point{} + 100s;
  q.push(1, t0);
  q.push(2, t0 + 500ms);
  q.push(3, t0 + 900ms);
  EXPECT_EQ(q.next_deadline(), t0 + 1s);
  EXPECT_TRUE(q.take_expired(t0 + 999ms).empty());
  EXPECT_EQ(q.take_expired(t0 + 1500ms), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(q.next_deadline(), t0 + 1900ms);
  EXPECT_EQ(q.size(), 1u);
}

TEST(RequestQueue, RemoveAndTakeAll) {
  RequestQueue q(10, 1s);
  const auto t0 = Clock::time_point{} + 100s;
  q.push(1, t0);
  q.push(2, t0);
  q.push(3, t0);
  q.remove(2);
  EXPECT_EQ(q.take_all(), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_deadline(), std::nullopt);
}

TEST(RequestQueue, LanesPerSlotKindShareCapacityAndTimeout) {
  RequestQueue q(3, 1s);
  const auto t0 = Clock::time_point{} + 100s;
  EXPECT_TRUE(q.push(1, t0, SlotKind::stream));
  EXPECT_TRUE(q.push(2, t0 + 100ms, SlotKind::request));
  EXPECT_TRUE(q.push(3, t0 + 200ms, SlotKind::stream));
  EXPECT_FALSE(q.push(4, t0 + 300ms, SlotKind::request));  // capacity counts both lanes
  EXPECT_FALSE(q.empty(SlotKind::request));
  EXPECT_EQ(q.pop(SlotKind::request), 2u);  // not behind the streams
  EXPECT_TRUE(q.empty(SlotKind::request));
  EXPECT_EQ(q.pop(SlotKind::request), std::nullopt);
  EXPECT_TRUE(q.push(5, t0 + 400ms, SlotKind::request));
  EXPECT_EQ(q.next_deadline(), t0 + 1s);
  EXPECT_EQ(q.take_expired(t0 + 1200ms), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(q.next_deadline(), t0 + 1400ms);
  q.remove(5);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace pagi::workers
