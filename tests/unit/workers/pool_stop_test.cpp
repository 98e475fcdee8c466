// Graceful stop and emergency kill.
#include "tests/unit/workers/pool_fixture.hpp"

namespace pagi::workers::testing {
namespace {

using Clock = std::chrono::steady_clock;

TEST_F(PoolTest, GracefulStopSequence) {
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0);
  bool stopped = false;
  pool->stop(Clock::now() + std::chrono::seconds(5), [&] { stopped = true; });
  auto late = open(get());
  ASSERT_TRUE(run_until([&] { return !late->errors.empty(); }));
  EXPECT_EQ(late->errors[0], UpstreamError::shutting_down);

  FakeWorker& w = launcher->worker(0);
  ASSERT_TRUE(run_until([&] { return w.count_of(E::DRAIN) == 1; }));
  EXPECT_EQ(w.count_of(E::LIFESPAN_SHUTDOWN), 0u);  // the scope still runs
  w.send_start(id, 200);
  w.send_body(id, "bye", false);
  w.send_scope_end(id);
  ASSERT_TRUE(run_until([&] { return stopped; }));
  EXPECT_EQ(a->body, "bye");
  EXPECT_TRUE(a->errors.empty());
  const auto kinds = w.kinds();
  auto pos = [&](E::Which k) { return std::find(kinds.begin(), kinds.end(), k) - kinds.begin(); };
  EXPECT_LT(pos(E::DRAIN), pos(E::LIFESPAN_SHUTDOWN));
  EXPECT_LT(pos(E::LIFESPAN_SHUTDOWN), pos(E::SHUTDOWN));
  EXPECT_EQ(w.received_of(E::LIFESPAN_SHUTDOWN)[0].getScope(), w.lifespan_scope());
  EXPECT_TRUE(launcher->signals().empty()) << "a cooperative worker needs no signal";
  EXPECT_EQ(pool->stats().workers_alive, 0u);
}

TEST_F(PoolTest, StopFailsQueuedScopes) {
  settings.concurrency = 1;
  start_ok();
  auto a = open(get());
  auto b = open(get());
  await_scope(0);
  pool->stop(Clock::now(), [] {});
  EXPECT_EQ(b->errors, std::vector<UpstreamError>{UpstreamError::shutting_down});
}

TEST_F(PoolTest, StopDeadlineEndsRunningScopes) {
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0);
  bool stopped = false;
  pool->stop(Clock::now() + std::chrono::milliseconds(50), [&] { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));
  EXPECT_EQ(a->errors, std::vector<UpstreamError>{UpstreamError::shutting_down});
  FakeWorker& w = launcher->worker(0);
  auto d = w.received_of(E::HTTP_DISCONNECT);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].getScope(), id);
  EXPECT_EQ(std::string(d[0].getHttpDisconnect().getReason().cStr()), "server_shutdown");
  EXPECT_EQ(w.count_of(E::SHUTDOWN), 1u);
}

TEST_F(PoolTest, StopEscalatesToSigtermThenSigkill) {
  launcher->ignore_sigterm = true;
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.exit_on_shutdown = false;
    o.answer_lifespan_shutdown = false;
    return o;
  };
  settings.shutdown_timeout = Seconds(0.05);
  settings.stop_grace = Seconds(0.05);
  start_ok();
  bool stopped = false;
  pool->stop(Clock::now(), [&] { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));
  const std::vector<std::pair<int, int>> expected = {{launcher->pid_of(0), SIGTERM}, {launcher->pid_of(0), SIGKILL}};
  EXPECT_EQ(launcher->signals(), expected);
  FakeWorker& w = launcher->worker(0);
  EXPECT_EQ(w.count_of(E::LIFESPAN_SHUTDOWN), 1u);
  EXPECT_EQ(w.count_of(E::SHUTDOWN), 1u);
}

TEST_F(PoolTest, KillAllFailsEverything) {
  settings.concurrency = 1;
  start_ok();
  auto a = open(get());
  auto b = open(get());
  await_scope(0);
  pool->kill_all();
  EXPECT_EQ(a->errors, std::vector<UpstreamError>{UpstreamError::worker_lost});
  EXPECT_EQ(b->errors, std::vector<UpstreamError>{UpstreamError::shutting_down});
  EXPECT_EQ(launcher->signals().back(), std::make_pair(launcher->pid_of(0), SIGKILL));
  ASSERT_TRUE(run_until([&] { return pool->stats().workers_alive == 0; }));
  EXPECT_EQ(launcher->workers().size(), 1u) << "no replacement after kill_all";
}

}  // namespace
}  // namespace pagi::workers::testing
