// Workers that break the protocol or die: their scopes fail with
// worker_lost, they are replaced, nothing else is disturbed.
#include "tests/unit/workers/pool_fixture.hpp"

namespace pagi::workers::testing {
namespace {

TEST_F(PoolTest, SendWindowOverrunDropsTheWorker) {
  settings.send_window = 16;
  settings.concurrency = 2;
  start_ok();
  auto a = open(get());
  auto b = open(get());
  const std::uint64_t id = await_scope(0, 2);
  FakeWorker& w = launcher->worker(0);
  w.send_start(id, 200);
  w.send_body(id, std::string(10, 'a'), true);
  w.send_body(id, std::string(10, 'b'), true);  // overshoots by one event: tolerated
  w.send_body(id, std::string(10, 'c'), true);  // window already exhausted: violation
  ASSERT_TRUE(run_until([&] { return !a->errors.empty() && !b->errors.empty(); }));
  EXPECT_EQ(a->errors[0], UpstreamError::worker_lost);
  EXPECT_EQ(b->errors[0], UpstreamError::worker_lost);
  EXPECT_EQ(b->body.size(), 20u);
  ASSERT_TRUE(run_until([&] { return launcher->workers().size() == 2 && pool->stats().workers_ready == 1; }));
}

TEST_F(PoolTest, InvalidFrameDropsOnlyThatWorker) {
  settings.workers = 2;
  settings.concurrency = 1;
  start_ok();
  auto a = open(get());
  auto b = open(get());
  ASSERT_TRUE(run_until(
      [&] { return http_scopes(launcher->worker(0)).size() == 1 && http_scopes(launcher->worker(1)).size() == 1; }));
  // A segment table announcing 200 segments.
  launcher->worker(0).send_raw(std::string("\xc7\x00\x00\x00\x01\x00\x00\x00", 8));
  ASSERT_TRUE(run_until([&] { return !a->errors.empty(); }));
  EXPECT_EQ(a->errors[0], UpstreamError::worker_lost);
  // The other worker's scope is untouched and completes.
  const std::uint64_t idb = http_scopes(launcher->worker(1))[0];
  launcher->worker(1).send_start(idb, 204);
  launcher->worker(1).send_body(idb, "", false);
  ASSERT_TRUE(run_until([&] { return b->body_done; }));
  EXPECT_TRUE(b->errors.empty());
  // Replaced.
  ASSERT_TRUE(run_until([&] { return launcher->workers().size() == 3 && pool->stats().workers_ready == 2; }));
  const auto& sig = launcher->signals();
  ASSERT_FALSE(sig.empty());
  EXPECT_EQ(sig[0], std::make_pair(launcher->pid_of(0), SIGKILL));
}

TEST_F(PoolTest, InvalidEventDropsTheWorker) {
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0);
  launcher->worker(0).send_start(id, 200, {{"bad header", "x"}});
  ASSERT_TRUE(run_until([&] { return !a->errors.empty(); }));
  EXPECT_EQ(a->status, std::nullopt);
}

TEST_F(PoolTest, ScopeNeverOpenedDropsTheWorker) {
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0);
  launcher->worker(0).send_start(id + 1000, 200);
  ASSERT_TRUE(run_until([&] { return !a->errors.empty(); }));
  EXPECT_EQ(a->errors[0], UpstreamError::worker_lost);
  ASSERT_TRUE(run_until([&] { return launcher->workers().size() == 2; }));
}

TEST_F(PoolTest, OutOfOrderEventsDropTheWorker) {
  struct Case {
    const char* name;
    std::function<void(FakeWorker&, std::uint64_t)> act;
  };
  const std::vector<Case> cases = {
      {"body before start", [](FakeWorker& w, std::uint64_t id) { w.send_body(id, "x", false); }},
      {"second start",
       [](FakeWorker& w, std::uint64_t id) {
         w.send_start(id, 200);
         w.send_start(id, 200);
       }},
      {"trailers not announced",
       [](FakeWorker& w, std::uint64_t id) {
         w.send_start(id, 200);
         w.send_body(id, "x", false);
         w.send_trailers(id, {{"a", "b"}});
       }},
      {"body after final body",
       [](FakeWorker& w, std::uint64_t id) {
         w.send_start(id, 200);
         w.send_body(id, "x", false);
         w.send_body(id, "y", false);
       }},
      {"websocket event on http scope",
       [](FakeWorker& w, std::uint64_t id) {
         w.send([&](wire::Envelope::Builder e) {
           e.setScope(id);
           e.initWebsocketSend().setText("hi");
         });
       }},
  };
  start_ok();
  std::size_t n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto ds = open(get());
    const std::size_t worker_index = launcher->workers().size() - 1;
    ASSERT_TRUE(run_until([&] { return pool->stats().in_flight == 1; }));
    const std::uint64_t id = await_scope(worker_index);
    c.act(launcher->worker(worker_index), id);
    ASSERT_TRUE(run_until([&] { return !ds->errors.empty(); }));
    EXPECT_EQ(ds->errors[0], UpstreamError::worker_lost);
    ++n;
    ASSERT_TRUE(run_until([&] { return launcher->workers().size() == n + 1 && pool->stats().workers_ready == 1; }));
  }
}

TEST_F(PoolTest, EventsForFinishedScopesAreIgnored) {
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0);
  FakeWorker& w = launcher->worker(0);
  w.send_scope_end(id);
  ASSERT_TRUE(run_until([&] { return a->app_done_failed.has_value(); }));
  w.send_start(id, 200);  // crossed in flight: ignored
  auto b = open(get());
  const std::uint64_t idb = await_scope(0, 2);
  w.send_start(idb, 200);
  ASSERT_TRUE(run_until([&] { return b->status.has_value(); }));
  EXPECT_EQ(launcher->workers().size(), 1u);
  EXPECT_EQ(a->status, std::nullopt);
}

TEST_F(PoolTest, WorkerExitMidScopeIsReplaced) {
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0);
  launcher->worker(0).send_start(id, 200);
  ASSERT_TRUE(run_until([&] { return a->status.has_value(); }));
  launcher->worker(0).exit(SIGSEGV);
  ASSERT_TRUE(run_until([&] { return !a->errors.empty(); }));
  EXPECT_EQ(a->errors[0], UpstreamError::worker_lost);
  ASSERT_TRUE(run_until([&] { return pool->stats().workers_ready == 1 && launcher->workers().size() == 2; }));
  EXPECT_EQ(pool->stats().restarts, 1u);
  // The replacement serves new scopes.
  auto b = open(get());
  const std::uint64_t idb = await_scope(1);
  launcher->worker(1).send_start(idb, 200);
  ASSERT_TRUE(run_until([&] { return b->status.has_value(); }));
}

TEST_F(PoolTest, ScopesQueueWhileNoWorkerIsReady) {
  settings.restart_delay = Seconds(0.3);
  settings.restart_delay_max = Seconds(0.3);
  settings.queue_timeout = Seconds(5);
  start_ok();
  launcher->worker(0).exit(SIGKILL);
  ASSERT_TRUE(run_until([&] { return pool->stats().workers_ready == 0; }));
  auto a = open(get());
  ASSERT_TRUE(run_until([&] { return pool->stats().queued == 1; }));
  const std::uint64_t id = await_scope(1);  // the replacement takes it
  EXPECT_NE(id, 0u);
  EXPECT_TRUE(a->errors.empty());
}

TEST_F(PoolTest, CrashLoopIsReportedAndRetried) {
  settings.crash_loop_threshold = 2;
  start_ok();
  launcher->options_for = [](std::size_t i) {
    FakeWorkerOptions o;
    if (i >= 1 && i <= 3) o.lifespan_failure = "still broken";
    return o;
  };
  launcher->worker(0).exit(SIGKILL);
  ASSERT_TRUE(run_until([&] { return pool->stats().crash_loop; }));
  // Workers 1..3 fail, 4 starts: the loop ends.
  ASSERT_TRUE(run_until([&] { return pool->stats().workers_ready == 1; }));
  EXPECT_EQ(launcher->workers().size(), 5u);
  EXPECT_FALSE(pool->stats().crash_loop);
}

TEST_F(PoolTest, MissedHeartbeatsKillTheWorker) {
  settings.heartbeat_interval = Seconds(0.02);
  settings.heartbeat_misses = 2;
  launcher->options_for = [](std::size_t i) {
    FakeWorkerOptions o;
    o.answer_heartbeats = i != 0;
    return o;
  };
  start_ok();
  ASSERT_TRUE(run_until([&] { return launcher->workers().size() == 2 && pool->stats().workers_ready == 1; }));
  EXPECT_GE(launcher->worker(0).count_of(E::HEARTBEAT), 2u);
  // The answering replacement keeps going.
  ASSERT_TRUE(run_until([&] { return launcher->worker(1).count_of(E::HEARTBEAT) >= 4; }));
  EXPECT_EQ(launcher->workers().size(), 2u);
}

}  // namespace
}  // namespace pagi::workers::testing
