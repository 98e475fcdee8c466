// DeadlineTimer on a real io_context and the steady clock: it fires at the
// earliest deadline; a deadline moved later keeps the running Asio wait
// (which re-waits when it fires early), an earlier one restarts it, none
// keeps it (it ends quietly when it fires), cancel() ends it.
#include "gateway/deadline_timer.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace pagi::testing {
namespace {

using gateway::DeadlineTimer;
using Clock = DeadlineTimer::Clock;
using namespace std::chrono_literals;

class DeadlineTimerTest : public ::testing::Test {
 protected:
  // Re-arms on `a` and `b`, counting handler factories and expiries.
  void rearm() {
    timer.rearm({&a, &b}, [this] {
      ++handlers_made;
      return [this] {
        ++fired;
        fired_at = Clock::now();
      };
    });
  }

  boost::asio::io_context io;
  DeadlineTimer timer{io.get_executor()};
  DeadlineTimer::Deadline a, b;
  int handlers_made = 0;
  int fired = 0;
  Clock::time_point fired_at;
};

TEST_F(DeadlineTimerTest, FiresAtTheEarliestDeadline) {
  const auto start = Clock::now();
  a = start + 200ms;
  b = start + 20ms;
  rearm();
  io.run_for(5s);  // returns once nothing is pending
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, *b);
  EXPECT_LT(fired_at, *a);
  EXPECT_FALSE(timer.waiting());
}

TEST_F(DeadlineTimerTest, LaterDeadlineKeepsTheWaitAndWaitsOn) {
  const auto start = Clock::now();
  a = start + 10ms;
  rearm();
  ASSERT_TRUE(timer.waiting());
  const auto first_expiry = timer.wait_expiry();
  a = start + 60ms;  // later: no new Asio wait, no new handler
  rearm();
  EXPECT_EQ(handlers_made, 1);
  EXPECT_EQ(timer.wait_expiry(), first_expiry);
  io.run_for(5s);
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, *a);  // the early wake-up waited on
}

TEST_F(DeadlineTimerTest, EarlierDeadlineRestartsTheWait) {
  const auto start = Clock::now();
  a = start + 3s;
  rearm();
  b = start + 10ms;
  rearm();
  EXPECT_EQ(handlers_made, 2);
  EXPECT_EQ(timer.wait_expiry(), *b);
  io.run_for(5s);  // the 3 s wait was cancelled: run returns early
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, *b);
  EXPECT_LT(Clock::now(), start + 2s);
}

TEST_F(DeadlineTimerTest, NoDeadlineKeepsTheWaitAndNeverFires) {
  const auto start = Clock::now();
  a = start + 30ms;
  rearm();
  a.reset();
  rearm();
  EXPECT_TRUE(timer.waiting());  // kept: no cancel, no new wait later
  io.run_for(5s);                // returns once the kept wait ended
  EXPECT_EQ(fired, 0);
  EXPECT_FALSE(timer.waiting());
  EXPECT_LT(Clock::now(), start + 2s);
}

TEST_F(DeadlineTimerTest, DeadlineAfterNoneReusesTheKeptWait) {
  const auto start = Clock::now();
  a = start + 10ms;
  rearm();
  a.reset();
  rearm();
  b = start + 40ms;  // later than the kept wait: no new handler
  rearm();
  EXPECT_EQ(handlers_made, 1);
  io.run_for(5s);
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, *b);
}

TEST_F(DeadlineTimerTest, ClearedWhileWaitingOnThenArmedAgain) {
  const auto start = Clock::now();
  a = start + 10ms;
  rearm();
  a = start + 3s;  // later: the 10 ms wait stays
  rearm();
  a.reset();  // none: the wait is kept
  rearm();
  b = start + 30ms;
  rearm();
  io.run_for(5s);
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, *b);
  EXPECT_LT(Clock::now(), start + 2s);
}

TEST_F(DeadlineTimerTest, CancelStopsAKeptWait) {
  const auto start = Clock::now();
  a = start + 10ms;
  rearm();
  a = start + 40ms;
  rearm();
  timer.cancel();
  io.run_for(5s);
  EXPECT_EQ(fired, 0);
  // Re-arming the same deadline after cancel() waits again.
  rearm();
  io.restart();
  io.run_for(5s);
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, *a);
}

}  // namespace
}  // namespace pagi::testing
