#include "workers/balancer.hpp"

#include <gtest/gtest.h>

#include <vector>

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

TEST(Balancer, EmptyPicksNothing) {
  EXPECT_EQ(pick_least_loaded({}), std::nullopt);
}

}  // namespace
}  // namespace pagi::workers
