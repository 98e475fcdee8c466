// Recycling (max_requests, max_lifetime, max_rss), request timeouts, reload,
// resize and the post-start crash loop: replacement first, then drain, and
// capacity never below `workers`.
#include <set>

#include "tests/unit/workers/pool_fixture.hpp"
#include "workers/recycle_policy.hpp"

namespace pagi::workers::testing {
namespace {

class RecycleTest : public PoolTest {
 protected:
  void answer(std::size_t worker, std::uint64_t id) {
    FakeWorker& w = launcher->worker(worker);
    w.send_start(id, 200);
    w.send_body(id, "ok", false);
    w.send_scope_end(id);
  }
  // Runs until `done`, failing if the pool ever had fewer ready workers
  // than `floor` on the way.
  bool run_keeping_capacity(const std::function<bool()>& done, std::size_t floor) {
    bool dipped = false;
    const bool ok = run_until([&] {
      if (pool->stats().workers_ready < floor) dipped = true;
      return done();
    });
    EXPECT_FALSE(dipped) << "fewer than " << floor << " ready workers during the recycle";
    return ok && !dipped;
  }
  bool exited(std::size_t i) { return launcher->workers().size() > i && launcher->worker(i).exited(); }
};

TEST_F(RecycleTest, MaxRequestsSpawnsTheReplacementBeforeDraining) {
  settings.concurrency = 1;
  settings.max_requests = 2;
  start_ok();
  auto a = open(get());
  answer(0, await_scope(0, 1));
  ASSERT_TRUE(run_until([&] { return a->app_done_failed.has_value(); }));
  EXPECT_EQ(launcher->workers().size(), 1u);
  auto b = open(get());
  answer(0, await_scope(0, 2));
  // The second scope reached the limit: a replacement starts, then the old
  // one drains and stops.
  ASSERT_TRUE(run_keeping_capacity([&] { return exited(0); }, 1));
  EXPECT_EQ(launcher->workers().size(), 2u);
  EXPECT_EQ(launcher->worker(0).count_of(E::DRAIN), 1u);
  EXPECT_EQ(launcher->worker(0).count_of(E::LIFESPAN_SHUTDOWN), 1u);
  EXPECT_TRUE(b->errors.empty());
  EXPECT_EQ(pool->stats().recycled, 1u);
  EXPECT_EQ(pool->stats().recycles_by_reason.at("max_requests"), 1u);
  EXPECT_TRUE(pool->stats().restarts_by_reason.empty());
  // The replacement serves.
  auto c = open(get());
  answer(1, await_scope(1, 1));
  ASSERT_TRUE(run_until([&] { return c->body_done; }));
}

TEST_F(RecycleTest, JitterAddsUpToItsValue) {
  RecyclePolicy policy(42);
  settings.max_requests = 10;
  settings.max_requests_jitter = 5;
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto limit = policy.plan(settings, RecyclePolicy::Clock::now()).request_limit;
    EXPECT_GE(limit, 10u);
    EXPECT_LE(limit, 15u);
    seen.insert(limit);
  }
  EXPECT_GT(seen.size(), 3u);
  RecycleState state;
  state.request_limit = 12;
  EXPECT_FALSE(RecyclePolicy::after_scope(state, 11));
  EXPECT_TRUE(RecyclePolicy::after_scope(state, 12));
}

TEST_F(RecycleTest, DrainingWorkerFinishesItsScopesFirst) {
  settings.concurrency = 2;
  settings.max_requests = 1;
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0, 1);
  ASSERT_TRUE(
      run_until([&] { return launcher->workers().size() == 2 && launcher->worker(0).count_of(E::DRAIN) == 1; }));
  // New scopes go to the replacement while the old one still runs `a`.
  auto b = open(get());
  answer(1, await_scope(1, 1));
  ASSERT_TRUE(run_until([&] { return b->body_done; }));
  EXPECT_FALSE(launcher->worker(0).exited());
  EXPECT_EQ(launcher->worker(0).count_of(E::LIFESPAN_SHUTDOWN), 0u);
  answer(0, id);
  ASSERT_TRUE(run_until([&] { return exited(0); }));
  EXPECT_TRUE(a->body_done);
  EXPECT_TRUE(a->errors.empty());
}

TEST_F(RecycleTest, DrainTimeoutClosesWhatIsLeft) {
  settings.concurrency = 2;
  settings.max_requests = 1;
  settings.drain_timeout = Seconds(0.05);
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0, 1);
  ASSERT_TRUE(run_until([&] { return !a->errors.empty(); }));
  EXPECT_EQ(a->errors[0], UpstreamError::shutting_down);
  ASSERT_TRUE(run_until([&] { return launcher->worker(0).count_of(E::HTTP_DISCONNECT) == 1; }));
  bool told = false;
  for (auto m : launcher->worker(0).received_of(E::HTTP_DISCONNECT)) {
    told =
        told || (m.getScope() == id && std::string_view(m.getHttpDisconnect().getReason().cStr()) == "server_shutdown");
  }
  EXPECT_TRUE(told);
  ASSERT_TRUE(run_until([&] { return exited(0); }));
  EXPECT_EQ(pool->stats().workers_ready, 1u);
}

TEST_F(RecycleTest, MaxRssOverConsecutiveSamples) {
  settings.workers = 2;
  settings.max_rss = 1000;
  settings.max_rss_samples = 3;
  settings.check_interval = Seconds(0.01);
  start_ok();
  launcher->rss[launcher->pid_of(0)] = 500;
  launcher->rss[launcher->pid_of(1)] = 5000;
  ASSERT_TRUE(run_keeping_capacity([&] { return exited(1); }, 2));
  EXPECT_FALSE(launcher->worker(0).exited());
  EXPECT_EQ(launcher->workers().size(), 3u);
  EXPECT_EQ(pool->stats().recycled, 1u);
  EXPECT_EQ(pool->stats().recycles_by_reason.at("max_rss"), 1u);
}

TEST(RecycleKind, EachReasonSentenceNamesItsLimit) {
  PoolSettings s;
  s.max_rss = 1000;
  s.max_rss_samples = 1;
  RecycleState state;
  state.request_limit = 3;
  EXPECT_EQ(RecyclePolicy::kind_of(*RecyclePolicy::after_scope(state, 3)), "max_requests");
  const auto rss = RecyclePolicy::on_check(state, s, RecyclePolicy::Clock::now(), 5000);
  ASSERT_TRUE(rss);
  EXPECT_EQ(RecyclePolicy::kind_of(*rss), "max_rss");
  RecycleState aged;
  aged.lifetime_deadline = RecyclePolicy::Clock::now() - std::chrono::seconds(1);
  const auto life = RecyclePolicy::on_check(aged, PoolSettings{}, RecyclePolicy::Clock::now(), std::nullopt);
  ASSERT_TRUE(life);
  EXPECT_EQ(RecyclePolicy::kind_of(*life), "max_lifetime");
  EXPECT_EQ(RecyclePolicy::kind_of("stuck on scope 7 after its request timeout"), "request_timeout");
  EXPECT_EQ(RecyclePolicy::kind_of("something else"), "other");
}

TEST_F(RecycleTest, RssBackUnderTheLimitResetsTheCount) {
  settings.max_rss = 1000;
  settings.max_rss_samples = 2;
  RecycleState state;
  const auto now = RecyclePolicy::Clock::now();
  EXPECT_FALSE(RecyclePolicy::on_check(state, settings, now, 2000));
  EXPECT_FALSE(RecyclePolicy::on_check(state, settings, now, 10));
  EXPECT_FALSE(RecyclePolicy::on_check(state, settings, now, 2000));
  EXPECT_TRUE(RecyclePolicy::on_check(state, settings, now, 2000));
}

TEST_F(RecycleTest, MaxLifetime) {
  settings.max_lifetime = Seconds(0.05);
  settings.check_interval = Seconds(0.01);
  start_ok();
  ASSERT_TRUE(run_keeping_capacity([&] { return exited(0); }, 1));
  EXPECT_GE(pool->stats().recycled, 1u);
}

TEST_F(RecycleTest, RequestTimeoutAnswers504AndReplacesAStuckWorker) {
  settings.concurrency = 4;
  settings.request_timeout = Seconds(0.05);
  settings.cancel_grace = Seconds(0.05);
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0, 1);
  ASSERT_TRUE(run_until([&] { return !a->errors.empty(); }));
  EXPECT_EQ(a->errors[0], UpstreamError::request_timeout);
  ASSERT_TRUE(run_until([&] { return launcher->worker(0).count_of(E::HTTP_DISCONNECT) == 1; }));
  EXPECT_EQ(launcher->worker(0).received_of(E::HTTP_DISCONNECT)[0].getScope(), id);
  // The worker ignores it: after cancel_grace it is replaced (then drained).
  ASSERT_TRUE(
      run_until([&] { return launcher->workers().size() == 2 && launcher->worker(0).count_of(E::DRAIN) == 1; }));
  EXPECT_EQ(pool->stats().recycled, 1u);
}

TEST_F(RecycleTest, RequestTimeoutWorkerThatCancelsStays) {
  settings.concurrency = 4;
  settings.request_timeout = Seconds(0.05);
  settings.cancel_grace = Seconds(0.1);
  start_ok();
  launcher->worker(0).on_message = [](FakeWorker& w, wire::Envelope::Reader m) {
    if (m.which() == E::HTTP_DISCONNECT) w.send_scope_end(m.getScope());
  };
  auto a = open(get());
  await_scope(0, 1);
  ASSERT_TRUE(run_until([&] { return !a->errors.empty(); }));
  auto b = open(get());  // a later scope, answered in time
  answer(0, await_scope(0, 2));
  ASSERT_TRUE(run_until([&] { return b->body_done; }));
  // Past the grace of `a`: nothing was replaced.
  bool timed_out = run_until([&] { return launcher->workers().size() > 1; }, std::chrono::milliseconds(300));
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(pool->stats().recycled, 0u);
}

TEST_F(RecycleTest, AnsweredScopesDoNotTimeOut) {
  settings.request_timeout = Seconds(0.05);
  start_ok();
  auto a = open(get());
  const std::uint64_t id = await_scope(0, 1);
  launcher->worker(0).send_start(id, 200);
  ASSERT_TRUE(run_until([&] { return a->status.has_value(); }));
  EXPECT_FALSE(run_until([&] { return !a->errors.empty(); }, std::chrono::milliseconds(200)));
  EXPECT_EQ(launcher->worker(0).count_of(E::HTTP_DISCONNECT), 0u);
}

// Every http scope queues a request_timeout entry; those of answered scopes
// used to stay until their deadline (request rate x timeout of them). They
// are pruned, and a pending scope's deadline survives the pruning.
TEST_F(RecycleTest, AnsweredScopesLeaveNoRequestDeadlinesBehind) {
  settings.concurrency = 8;
  settings.request_timeout = Seconds(2);
  start_ok();
  auto stuck = open(get());
  const std::uint64_t stuck_id = await_scope(0, 1);
  std::size_t answered = 0;
  launcher->worker(0).on_message = [&](FakeWorker& w, wire::Envelope::Reader m) {
    if (m.which() != E::OPEN || m.getScope() == stuck_id) return;
    w.send_start(m.getScope(), 200);
    w.send_body(m.getScope(), "ok", false);
    w.send_scope_end(m.getScope());
    ++answered;
  };
  constexpr std::size_t n = 3000;
  std::size_t most = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto ds = open(get());
    ASSERT_TRUE(run_until([&] { return ds->body_done; })) << "scope " << i;
    most = std::max(most, pool->stats().request_deadlines);
  }
  EXPECT_EQ(answered, n);
  EXPECT_LE(most, std::size_t{1024});  // not one per answered scope
  // The pending scope kept its deadline through the pruning.
  ASSERT_TRUE(run_until([&] { return !stuck->errors.empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(stuck->errors[0], UpstreamError::request_timeout);
}

TEST_F(RecycleTest, ReloadReplacesEveryWorkerOneAtATime) {
  settings.workers = 2;
  start_ok();
  PoolSettings next = settings;
  next.env["GENERATION"] = "2";
  std::optional<PoolReloadResult> result;
  pool->reload(next, [&](const PoolReloadResult& r) { result = r; });
  ASSERT_TRUE(run_keeping_capacity([&] { return result.has_value(); }, 2));
  EXPECT_TRUE(result->ok) << result->message;
  ASSERT_TRUE(run_until([&] { return exited(0) && exited(1); }));
  EXPECT_EQ(launcher->workers().size(), 4u);
  EXPECT_EQ(pool->stats().workers_ready, 2u);
  EXPECT_EQ(pool->stats().generation, 1u);
  EXPECT_EQ(pool->settings().env.at("GENERATION"), "2");
}

TEST_F(RecycleTest, FailedReloadKeepsTheOldWorkers) {
  settings.workers = 2;
  launcher->options_for = [](std::size_t i) {
    FakeWorkerOptions o;
    if (i >= 2) o.lifespan_failure = "new code is broken";
    return o;
  };
  start_ok();
  PoolSettings next = settings;
  next.env["GENERATION"] = "2";
  std::optional<PoolReloadResult> result;
  pool->reload(next, [&](const PoolReloadResult& r) { result = r; });
  ASSERT_TRUE(run_keeping_capacity([&] { return result.has_value(); }, 2));
  EXPECT_FALSE(result->ok);
  EXPECT_NE(result->message.find("new code is broken"), std::string::npos) << result->message;
  EXPECT_FALSE(launcher->worker(0).exited());
  EXPECT_FALSE(launcher->worker(1).exited());
  EXPECT_EQ(pool->settings().env.count("GENERATION"), 0u);
  // No respawn of the failed generation.
  EXPECT_FALSE(run_until([&] { return launcher->workers().size() > 3; }, std::chrono::milliseconds(200)));
  auto a = open(get());
  ASSERT_TRUE(run_until(
      [&] { return !http_scopes(launcher->worker(0)).empty() || !http_scopes(launcher->worker(1)).empty(); }));
}

TEST_F(RecycleTest, ResizeAddsAndRemovesWithAFloorOfOne) {
  start_ok();
  EXPECT_EQ(pool->resize(+1), 2);
  ASSERT_TRUE(run_until([&] { return pool->stats().workers_ready == 2; }));
  EXPECT_EQ(pool->resize(-1), 1);
  ASSERT_TRUE(run_until([&] { return pool->stats().workers_alive == 1; }));
  EXPECT_EQ(pool->resize(-1), 1);
  EXPECT_EQ(pool->stats().workers_ready, 1u);
}

TEST_F(RecycleTest, CrashLoopAfterStartAnswersPoolFailed) {
  settings.crash_loop_threshold = 2;
  settings.restart_delay_max = Seconds(5);  // stays in the loop during the test
  launcher->options_for = [](std::size_t i) {
    FakeWorkerOptions o;
    if (i >= 1) o.lifespan_failure = "broken";
    return o;
  };
  start_ok();
  launcher->worker(0).exit(SIGKILL);
  ASSERT_TRUE(run_until([&] { return pool->stats().crash_loop; }));
  EXPECT_TRUE(pool->stats().failed);
  auto a = open(get());
  ASSERT_TRUE(run_until([&] { return !a->errors.empty(); }));
  EXPECT_EQ(a->errors[0], UpstreamError::pool_failed);
}

}  // namespace
}  // namespace pagi::workers::testing
