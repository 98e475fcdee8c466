#include "tests/unit/workers/pool_fixture.hpp"

namespace pagi::workers::testing {
namespace {

TEST_F(PoolTest, HandshakeAndLifespanMakeEveryWorkerReady) {
  settings.workers = 2;
  settings.send_window = 1234;
  settings.receive_window = 5678;
  settings.max_message_bytes = 99999;
  start_ok();
  ASSERT_EQ(launcher->workers().size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const FakeWorker& w = launcher->worker(i);
    const auto kinds = w.kinds();
    ASSERT_GE(kinds.size(), 3u);
    EXPECT_EQ(kinds[0], E::WELCOME);
    EXPECT_EQ(kinds[1], E::OPEN);
    EXPECT_EQ(kinds[2], E::LIFESPAN_STARTUP);
    auto welcome = w.received_of(E::WELCOME).at(0).getWelcome();
    EXPECT_EQ(welcome.getProtocolVersion(), wire::PROTOCOL_VERSION);
    EXPECT_EQ(welcome.getSendWindow(), 1234u);
    EXPECT_EQ(welcome.getReceiveWindow(), 5678u);
    EXPECT_EQ(welcome.getMaxMessageBytes(), 99999u);
    EXPECT_EQ(welcome.getLifespan(), wire::LifespanMode::AUTO);
    EXPECT_EQ(std::string(welcome.getPool().cStr()), "test");
    EXPECT_EQ(w.received_of(E::OPEN).at(0).getOpen().getType(), wire::ScopeType::LIFESPAN);
  }
  EXPECT_NE(launcher->worker(0).received_of(E::WELCOME)[0].getWelcome().getWorkerId(),
            launcher->worker(1).received_of(E::WELCOME)[0].getWelcome().getWorkerId());
  EXPECT_EQ(pool->stats().workers_ready, 2u);
}

TEST_F(PoolTest, LifespanOffSkipsTheLifespanScope) {
  settings.lifespan = wire::LifespanMode::OFF;
  start_ok();
  ASSERT_TRUE(run_until([&] { return launcher->worker(0).received_count() > 0; }));
  EXPECT_EQ(launcher->worker(0).kinds(), std::vector<E::Which>{E::WELCOME});
}

TEST_F(PoolTest, LifespanUnsupportedIsReadyInAutoMode) {
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.lifespan_unsupported = true;
    return o;
  };
  start_ok();
}

TEST_F(PoolTest, LifespanUnsupportedFailsInOnMode) {
  settings.lifespan = wire::LifespanMode::ON;
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.lifespan_unsupported = true;
    return o;
  };
  const PoolStartResult r = start();
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.app_failed);
}

TEST_F(PoolTest, LifespanFailedMessageReachesStartCallback) {
  settings.workers = 2;
  launcher->options_for = [](std::size_t i) {
    FakeWorkerOptions o;
    if (i == 1) o.lifespan_failure = "database unreachable";
    return o;
  };
  const PoolStartResult r = start();
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.app_failed);
  EXPECT_NE(r.message.find("database unreachable"), std::string::npos) << r.message;
  // The pool does not leave the others running.
  EXPECT_TRUE(run_until([&] { return launcher->live_count() == 0; }));
}

TEST_F(PoolTest, StartupTimeoutNamesTheStep) {
  settings.startup_timeout = Seconds(0.1);
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.answer_lifespan = false;
    return o;
  };
  const PoolStartResult r = start();
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.app_failed);
  EXPECT_NE(r.message.find("lifespan startup"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("timed out"), std::string::npos) << r.message;
}

TEST_F(PoolTest, EarlyExitBeforeHelloFailsStart) {
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.send_hello = false;
    return o;
  };
  pool = std::make_unique<Pool>(io, settings, launcher);
  std::optional<PoolStartResult> result;
  pool->start([&](const PoolStartResult& r) { result = r; });
  ASSERT_TRUE(run_until([&] { return launcher->workers().size() == 1; }));
  launcher->worker(0).exit(1 << 8);  // exit status 1
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  EXPECT_FALSE(result->ok);
  EXPECT_NE(result->message.find("handshaking"), std::string::npos) << result->message;
}

TEST_F(PoolTest, LaunchFailureFailsStart) {
  launcher->fail_launches = 1;
  const PoolStartResult r = start();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("fake launch failure"), std::string::npos) << r.message;
}

TEST_F(PoolTest, WrongProtocolVersionFailsStart) {
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.send_hello = false;
    return o;
  };
  pool = std::make_unique<Pool>(io, settings, launcher);
  std::optional<PoolStartResult> result;
  pool->start([&](const PoolStartResult& r) { result = r; });
  ASSERT_TRUE(run_until([&] { return launcher->workers().size() == 1; }));
  launcher->worker(0).send_hello(99);
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  EXPECT_FALSE(result->ok);
  EXPECT_NE(result->message.find("protocol version"), std::string::npos) << result->message;
}

TEST_F(PoolTest, ScopesOpenedBeforeReadyWaitForTheWorker) {
  pool = std::make_unique<Pool>(io, settings, launcher);
  bool ok = false;
  pool->start([&](const PoolStartResult& r) { ok = r.ok; });
  auto ds = open(get());
  ASSERT_TRUE(run_until([&] { return ok; }));
  const std::uint64_t id = await_scope(0);
  EXPECT_NE(id, 0u);
  EXPECT_TRUE(ds->errors.empty());
}

}  // namespace
}  // namespace pagi::workers::testing
