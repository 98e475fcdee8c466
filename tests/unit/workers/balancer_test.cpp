#include "workers/balancer.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace pagi::workers {
namespace {

TEST(Balancer, PicksLeastLoadedReadyWorker) {
  std::vector<WorkerLoad> w = {{1, true, 3, 10}, {2, true, 1, 10}, {3, true, 2, 10}};
  EXPECT_EQ(pick_least_loaded(w), 2u);
}

TEST(Balancer, SkipsWorkersThatAreNotReady) {
  std::vector<WorkerLoad> w = {{1, false, 0, 10}, {2, true, 5, 10}};
  EXPECT_EQ(pick_least_loaded(w), 2u);
}

TEST(Balancer, RespectsConcurrency) {
  std::vector<WorkerLoad> w = {{1, true, 1, 1}, {2, true, 4, 4}};
  EXPECT_EQ(pick_least_loaded(w), std::nullopt);
  w[1].in_flight = 3;
  EXPECT_EQ(pick_least_loaded(w), 2u);
}

TEST(Balancer, TieGoesToFirst) {
  std::vector<WorkerLoad> w = {{7, true, 0, 2}, {3, true, 0, 2}};
  EXPECT_EQ(pick_least_loaded(w), 7u);
}

TEST(Balancer, EmptyPicksNothing) { EXPECT_EQ(pick_least_loaded({}), std::nullopt); }

// Stream scopes (websocket, sse) have their own slots: a worker full of
// requests still takes a stream, and a worker full of streams a request.
TEST(Balancer, StreamSlotsApartFromRequestSlots) {
  std::vector<WorkerLoad> w = {{1, true, 2, 2, 50, 100}};
  EXPECT_EQ(pick_least_loaded(w, SlotKind::request), std::nullopt);
  EXPECT_EQ(pick_least_loaded(w, SlotKind::stream), 1u);
  w[0] = {1, true, 0, 2, 100, 100};
  EXPECT_EQ(pick_least_loaded(w, SlotKind::stream), std::nullopt);
  EXPECT_EQ(pick_least_loaded(w, SlotKind::request), 1u);
}

TEST(Balancer, StreamsGoToTheWorkerWithFewestStreams) {
  std::vector<WorkerLoad> w = {{1, true, 0, 2, 30, 100}, {2, true, 2, 2, 10, 100}};
  EXPECT_EQ(pick_least_loaded(w, SlotKind::stream), 2u);
  EXPECT_EQ(pick_least_loaded(w, SlotKind::request), 1u);
}

// concurrency 1 (WSGI, blocking PSGI): one slot for every kind of scope.
TEST(Balancer, SingleSlotWorkerSharesItWithStreams) {
  std::vector<WorkerLoad> w = {{1, true, 0, 1, 1, 10000}};
  EXPECT_EQ(pick_least_loaded(w, SlotKind::request), std::nullopt);
  EXPECT_EQ(pick_least_loaded(w, SlotKind::stream), std::nullopt);
  w[0] = {1, true, 1, 1, 0, 10000};
  EXPECT_EQ(pick_least_loaded(w, SlotKind::stream), std::nullopt);
  w[0] = {1, true, 0, 1, 0, 10000};
  EXPECT_EQ(pick_least_loaded(w, SlotKind::stream), 1u);
  EXPECT_EQ(slots_limit(w[0], SlotKind::stream), 1u);
}

}  // namespace
}  // namespace pagi::workers
