// EdgeOpener in front of a fake pool: what reaches the pool, what is
// answered locally, and that a WebSocket handshake counts once.
#include <cstdio>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "gateway/edge/edge_runtime.hpp"
#include "gateway/edge/maintenance_control.hpp"
#include "tests/fakes/fake_downstream.hpp"
#include "tests/fakes/fake_scope_opener.hpp"

namespace pagi::gateway::edge {
namespace {

Cidr cidr(std::string_view text) {
  std::string e;
  return *parse_cidr(text, e);
}

class EdgeOpenerTest : public ::testing::Test {
 protected:
  EdgeOpenerTest() {
    config.pools.resize(1);
    config.pools[0].name = "app";
  }

  workers::ScopeOpener& opener() {
    if (!runtime) runtime = std::make_unique<EdgeRuntime>(io, config);
    return runtime->opener_for("127.0.0.1:0", pool);
  }

  // Opens one scope; returns the downstream after the posted work ran.
  std::shared_ptr<fakes::FakeDownstream> open(std::string_view client, std::string_view path = "/",
                                              wire::ScopeType type = wire::ScopeType::HTTP,
                                              std::vector<workers::HeaderView> headers = {}) {
    workers::ScopeRequest r;
    r.type = type;
    r.method = "GET";
    r.scheme = type == wire::ScopeType::WEBSOCKET ? "ws" : "http";
    r.path = path;
    r.raw_path = path;
    r.client_host = client;
    r.client_port = 1234;
    headers_ = std::move(headers);
    r.headers = headers_;
    auto ds = std::make_shared<fakes::FakeDownstream>();
    ds->upstream = opener().open_scope(r, ds);
    io.restart();
    io.run();
    return ds;
  }

  static std::string header(const fakes::FakeDownstream& ds, std::string_view name) {
    for (const auto& [n, v] : ds.headers)
      if (n == name) return v;
    return "<none>";
  }

  boost::asio::io_context io;
  GatewayConfig config;
  testing::FakeScopeOpener pool;
  std::unique_ptr<EdgeRuntime> runtime;
  std::vector<workers::HeaderView> headers_;
};

TEST_F(EdgeOpenerTest, PassesThroughWithoutPolicy) {
  const auto ds = open("10.0.0.1");
  ASSERT_EQ(pool.scopes.size(), 1u);
  EXPECT_EQ(pool.scopes[0]->request.client_host, "10.0.0.1");
  EXPECT_FALSE(ds->status);
}

TEST_F(EdgeOpenerTest, TrustedProxySetsClientAndScheme) {
  config.edge.trusted_proxies = {cidr("10.0.0.0/8")};
  open("10.0.0.1", "/", wire::ScopeType::WEBSOCKET,
       {{"x-forwarded-for", "192.0.2.9"},
        {"x-forwarded-proto", "https"},
        {"host", "inner"},
        {"x-forwarded-host", "outer"}});
  ASSERT_EQ(pool.scopes.size(), 1u);
  EXPECT_EQ(pool.scopes[0]->request.client_host, "192.0.2.9");
  EXPECT_EQ(pool.scopes[0]->request.client_port, 0);
  EXPECT_EQ(pool.scopes[0]->request.scheme, "wss");
  EXPECT_EQ(pool.scopes[0]->request.header("host"), "outer");
}

TEST_F(EdgeOpenerTest, DeniedWebSocketGetsLocal403) {
  config.edge.access.configured = true;
  config.edge.access.rules.push_back({Verdict::deny, cidr("2001:db8::/32")});
  const auto ds = open("2001:db8::1", "/ws", wire::ScopeType::WEBSOCKET);
  EXPECT_TRUE(pool.scopes.empty());
  EXPECT_EQ(ds->status, 403);
  EXPECT_EQ(ds->app_done_failed, false);
  EXPECT_EQ(open("2001:db9::1")->status, std::nullopt);
  EXPECT_EQ(pool.scopes.size(), 1u);
}

TEST_F(EdgeOpenerTest, UnixSocketClientGetsTheDefault) {
  config.edge.access.configured = true;
  config.edge.access.default_verdict = Verdict::deny;
  config.edge.access.rules.push_back({Verdict::allow, cidr("::/0")});
  EXPECT_EQ(open("")->status, 403);  // no address: no rule can match
  EXPECT_EQ(open("10.1.1.1")->status, std::nullopt);
}

TEST_F(EdgeOpenerTest, WebSocketHandshakeCountsOnce) {
  RateLimitSettings limit;
  limit.name = "ws";
  limit.rate = 1.0 / 3600;
  limit.burst = 2;
  config.edge.rate_limits.push_back(limit);
  auto first = open("10.0.0.1", "/ws", wire::ScopeType::WEBSOCKET);
  ASSERT_EQ(pool.scopes.size(), 1u);
  // Messages on the open WebSocket go to the Upstream, never through the opener.
  first->upstream->send_message(true, "hello");
  first->upstream->send_message(true, "again");
  EXPECT_EQ(open("10.0.0.1", "/ws", wire::ScopeType::WEBSOCKET)->status, std::nullopt);
  const auto third = open("10.0.0.1", "/ws", wire::ScopeType::WEBSOCKET);
  EXPECT_EQ(third->status, 429);
  EXPECT_EQ(header(*third, "ratelimit-limit"), "2");
  EXPECT_NE(header(*third, "retry-after"), "<none>");
}

TEST_F(EdgeOpenerTest, MaintenanceHookApiPerPoolAndGlobal) {
  config.edge.maintenance.bypass = {cidr("10.9.0.0/16")};
  auto& op = opener();
  (void)op;
  runtime->maintenance().set_pool("other", true);
  EXPECT_EQ(open("10.0.0.1")->status, std::nullopt);
  runtime->maintenance().set_pool("app", true);
  const auto down = open("10.0.0.1", "/", wire::ScopeType::HTTP, {{"accept", "application/json"}});
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(header(*down, "content-type"), "application/json");
  EXPECT_EQ(open("10.9.1.1")->status, std::nullopt);              // bypass
  EXPECT_EQ(open("10.0.0.1", "/healthz")->status, std::nullopt);  // exempt
  runtime->maintenance().set_pool("app", false);
  EXPECT_EQ(open("10.0.0.1")->status, std::nullopt);
  runtime->maintenance().set_global(true);
  EXPECT_EQ(open("10.0.0.1")->status, 503);
  EXPECT_EQ(runtime->maintenance().status_json(), "{\"global\":true,\"file\":false,\"pools\":[\"other\"]}");
}

}  // namespace
}  // namespace pagi::gateway::edge

namespace pagi::gateway::edge {
namespace {

// The SIGUSR2 wait and the file poll must not keep an io_context alive
// after stop(): an embedding program's io.run() returns.
TEST(MaintenanceRuntime, StopLetsTheLoopEnd) {
  boost::asio::io_context io;
  MaintenanceSettings settings;
  settings.file = "/nonexistent/pagi-maintenance-flag";
  settings.poll_interval = 0.01;
  Maintenance m(settings);
  m.start(io);
  io.poll();
  m.stop();
  io.run();  // hangs if a wait survived stop()
  SUCCEED();
}

}  // namespace
}  // namespace pagi::gateway::edge

namespace pagi::gateway::edge {
namespace {

TEST_F(EdgeOpenerTest, PeerKeptWhenTheClientIsReplaced) {
  config.edge.trusted_proxies = {cidr("10.0.0.0/8")};
  open("10.0.0.1", "/", wire::ScopeType::HTTP, {{"x-forwarded-for", "192.0.2.9"}});
  open("10.0.0.1");  // no header: client is the peer, no peer field
  ASSERT_EQ(pool.scopes.size(), 2u);
  EXPECT_EQ(pool.scopes[0]->request.client_host, "192.0.2.9");
  EXPECT_EQ(pool.scopes[0]->request.peer_host, "10.0.0.1");
  EXPECT_EQ(pool.scopes[0]->request.peer_port, 1234);
  EXPECT_EQ(pool.scopes[1]->request.peer_host, "");
}

TEST_F(EdgeOpenerTest, ReloadSwapsRulesAndKeepsUnchangedBuckets) {
  RateLimitSettings limit;
  limit.name = "a";
  limit.rate = 1.0 / 3600;
  limit.burst = 1;
  config.edge.rate_limits.push_back(limit);
  EXPECT_EQ(open("10.0.0.1")->status, std::nullopt);
  EXPECT_EQ(open("10.0.0.1")->status, 429);
  GatewayConfig next = config;
  next.edge.access.configured = true;
  next.edge.access.rules.push_back({Verdict::deny, cidr("10.0.0.2/32")});
  runtime->reload(next);
  EXPECT_EQ(open("10.0.0.2")->status, 403);  // the new rule
  EXPECT_EQ(open("10.0.0.1")->status, 429);  // same limit: same buckets
  next.edge.rate_limits[0].burst = 2;        // a changed limit starts full
  runtime->reload(next);
  EXPECT_EQ(open("10.0.0.1")->status, std::nullopt);
}

TEST_F(EdgeOpenerTest, MaintenanceClosesOpenStreamsOnlyWhenAsked) {
  config.edge.maintenance.bypass = {cidr("10.9.0.0/16")};
  const auto ws = open("10.0.0.1", "/ws", wire::ScopeType::WEBSOCKET);
  const auto sse = open("10.0.0.1", "/events", wire::ScopeType::SSE);
  const auto spared = open("10.9.0.1", "/ws", wire::ScopeType::WEBSOCKET);
  std::vector<std::string> pools{"app"};
  EXPECT_EQ(control_maintenance(runtime->maintenance(), pools, {true, "1", "", ""}).status, 200);
  EXPECT_TRUE(ws->server_closes.empty());
  EXPECT_EQ(open("10.0.0.1", "/ws", wire::ScopeType::WEBSOCKET)->status, 503);
  const auto r = control_maintenance(runtime->maintenance(), pools, {true, "1", "app", "1"});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"closed_streams\":2"), std::string::npos) << r.body;
  EXPECT_EQ(ws->server_closes.size(), 1u);
  EXPECT_EQ(sse->server_closes.size(), 1u);
  EXPECT_TRUE(spared->server_closes.empty());
  EXPECT_EQ(control_maintenance(runtime->maintenance(), pools, {true, "2", "", ""}).status, 400);
  EXPECT_EQ(control_maintenance(runtime->maintenance(), pools, {true, "1", "nope", ""}).status, 404);
  EXPECT_EQ(control_maintenance(runtime->maintenance(), pools, {true, "0", "", "1"}).status, 400);
}

}  // namespace
}  // namespace pagi::gateway::edge

namespace pagi::gateway::edge {
namespace {

// maintenance.close_streams: every switch that turns maintenance on closes
// the open streams; a reload keeps the run-time switches.
TEST_F(EdgeOpenerTest, CloseStreamsSettingAndReloadKeepsSwitches) {
  config.edge.maintenance.close_streams = true;
  const auto ws = open("10.0.0.1", "/ws", wire::ScopeType::WEBSOCKET);
  runtime->maintenance().set_global(true);
  EXPECT_EQ(ws->server_closes.size(), 1u);
  GatewayConfig next = config;
  next.edge.maintenance.retry_after = 5;
  runtime->reload(next);
  EXPECT_TRUE(runtime->maintenance().global());  // the switch stayed
  const auto down = open("10.0.0.1");
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(header(*down, "retry-after"), "5");  // the new settings apply
  next.edge.maintenance.enabled = true;          // changed in the file: applies
  next.edge.maintenance.pools = {"app"};
  runtime->reload(next);
  EXPECT_FALSE(runtime->maintenance().global());
  EXPECT_TRUE(runtime->maintenance().active_for("app"));
}

}  // namespace
}  // namespace pagi::gateway::edge

namespace pagi::gateway::edge {
namespace {

// A reload that names another maintenance file watches that one from then
// on (and the old file no longer counts).
TEST(MaintenanceRuntime, ReloadWatchesTheNewFile) {
  const std::string flag = ::testing::TempDir() + "pagi-maintenance-flag-" + std::to_string(::getpid());
  std::FILE* f = std::fopen(flag.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  boost::asio::io_context io;
  MaintenanceSettings settings;
  settings.file = flag;
  settings.poll_interval = 0.01;
  Maintenance m(settings);
  m.start(io);
  io.poll();
  EXPECT_TRUE(m.active_for("app"));
  settings.file = flag + ".absent";
  m.update(settings);
  EXPECT_FALSE(m.active_for("app"));
  io.poll();
  EXPECT_FALSE(m.active_for("app"));
  settings.file = flag;
  m.update(settings);
  EXPECT_TRUE(m.active_for("app"));
  std::remove(flag.c_str());
  m.stop();
  io.run();  // hangs if a wait survived stop() or the restarts
}

}  // namespace
}  // namespace pagi::gateway::edge
