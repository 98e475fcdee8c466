// Stream slots: websocket and sse scopes count against stream_concurrency,
// not against concurrency, so open streams never starve http requests; a
// worker with concurrency 1 shares its single slot; max_streams bounds the
// pool. Against fake workers (tests/fakes).
#include "tests/unit/workers/pool_fixture.hpp"

namespace pagi::workers::testing {
namespace {

class PoolStreamSlotsTest : public PoolTest {
 protected:
  PoolStreamSlotsTest() {
    launcher->options_for = [](std::size_t) {
      FakeWorkerOptions o;
      o.concurrency = 100;  // an async worker's hello
      o.scope_types = wire::SCOPE_BIT_HTTP | wire::SCOPE_BIT_WEBSOCKET | wire::SCOPE_BIT_SSE;
      return o;
    };
  }
  static ScopeRequest websocket() {
    ScopeRequest r = get("/ws");
    r.type = wire::ScopeType::WEBSOCKET;
    r.has_body = false;
    return r;
  }
  static ScopeRequest sse() {
    ScopeRequest r = get("/events");
    r.type = wire::ScopeType::SSE;
    return r;
  }
  // Stream scope ids worker `i` was given, in order.
  std::vector<std::uint64_t> stream_scopes(std::size_t i = 0) {
    std::vector<std::uint64_t> ids;
    if (launcher->workers().size() <= i) return ids;
    for (auto m : launcher->worker(i).received_of(E::OPEN)) {
      const auto type = m.getOpen().getType();
      if (type == wire::ScopeType::WEBSOCKET || type == wire::ScopeType::SSE) ids.push_back(m.getScope());
    }
    return ids;
  }
  bool await_streams(std::size_t n, std::size_t i = 0) {
    return run_until([&] { return stream_scopes(i).size() >= n; });
  }
  // Answers http scope `id` on worker 0 and waits for the body.
  void serve(std::uint64_t id, FakeDownstream& ds) {
    FakeWorker& w = launcher->worker(0);
    w.send_start(id, 200);
    w.send_body(id, "ok", false);
    w.send_scope_end(id);
    EXPECT_TRUE(run_until([&] { return ds.body_done; })) << "scope " << id << " never answered";
    EXPECT_EQ(ds.body, "ok");
  }
  std::vector<std::shared_ptr<FakeDownstream>> open_many(const ScopeRequest& r, std::size_t n) {
    std::vector<std::shared_ptr<FakeDownstream>> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(open(r));
    return out;
  }
};

TEST_F(PoolStreamSlotsTest, FiftyWebsocketsLeaveRequestSlotsFree) {
  settings.concurrency = 2;
  settings.stream_concurrency = 100;
  start_ok();
  auto sockets = open_many(websocket(), 50);
  ASSERT_TRUE(await_streams(50));
  ASSERT_TRUE(run_until([&] { return launcher->worker(0).count_of(E::WEBSOCKET_CONNECT) == 50; }));
  EXPECT_EQ(pool->stats().streams, 50u);
  EXPECT_EQ(pool->stats().in_flight, 50u);
  EXPECT_EQ(pool->stats().queued, 0u);
  const auto info = pool->workers();
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].streams, 50u);
  EXPECT_EQ(info[0].stream_concurrency, 100u);

  // Both request slots are still free: two requests at once are served.
  auto a = open(get("/a"));
  auto b = open(get("/b"));
  const auto id_b = await_scope(0, 2);
  const auto id_a = http_scopes(launcher->worker(0))[0];
  EXPECT_EQ(pool->stats().queued, 0u);
  serve(id_a, *a);
  serve(id_b, *b);
  for (const auto& s : sockets) EXPECT_TRUE(s->errors.empty());
}

TEST_F(PoolStreamSlotsTest, StreamLimitQueuesTheHandshakeUntilOneCloses) {
  settings.concurrency = 2;
  settings.stream_concurrency = 2;
  start_ok();
  auto first = open_many(websocket(), 2);
  ASSERT_TRUE(await_streams(2));
  auto third = open(sse());
  ASSERT_TRUE(run_until([&] { return pool->stats().queued == 1; }));
  EXPECT_EQ(stream_scopes().size(), 2u);

  // A request is not held up by the waiting stream handshake.
  auto req = open(get());
  const auto id = await_scope(0);
  serve(id, *req);
  EXPECT_EQ(pool->stats().queued, 1u);

  launcher->worker(0).send_scope_end(stream_scopes()[0]);
  ASSERT_TRUE(await_streams(3));
  EXPECT_EQ(launcher->worker(0).received_of(E::OPEN).back().getOpen().getType(), wire::ScopeType::SSE);
  EXPECT_EQ(pool->stats().queued, 0u);
  EXPECT_EQ(pool->stats().streams, 2u);
  EXPECT_TRUE(third->errors.empty());
}

TEST_F(PoolStreamSlotsTest, QueuedHandshakeTimesOut) {
  settings.concurrency = 2;
  settings.stream_concurrency = 1;
  start_ok();
  auto first = open(websocket());
  ASSERT_TRUE(await_streams(1));
  auto second = open(websocket());
  ASSERT_TRUE(run_until([&] { return !second->errors.empty(); }));
  EXPECT_EQ(second->errors[0], UpstreamError::queue_timeout);
  EXPECT_EQ(pool->stats().queue_timeouts, 1u);
}

TEST_F(PoolStreamSlotsTest, MaxStreamsBoundsThePool) {
  settings.workers = 2;
  settings.concurrency = 2;
  settings.stream_concurrency = 100;
  settings.max_streams = 3;
  start_ok();
  auto sockets = open_many(websocket(), 4);
  ASSERT_TRUE(run_until([&] { return stream_scopes(0).size() + stream_scopes(1).size() == 3; }));
  ASSERT_TRUE(run_until([&] { return pool->stats().queued == 1; }));
  EXPECT_EQ(pool->stats().streams, 3u);
  const std::size_t on = stream_scopes(0).empty() ? 1 : 0;
  launcher->worker(on).send_scope_end(stream_scopes(on)[0]);
  ASSERT_TRUE(run_until([&] { return stream_scopes(0).size() + stream_scopes(1).size() == 4; }));
  EXPECT_EQ(pool->stats().queued, 0u);
}

// WSGI-style worker: concurrency 1 means one scope at a time, whatever its
// kind; stream_concurrency does not add slots.
TEST_F(PoolStreamSlotsTest, SingleSlotWorkerRunsAStreamAlone) {
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.concurrency = 1;  // what a WSGI worker's hello says
    o.scope_types = wire::SCOPE_BIT_HTTP | wire::SCOPE_BIT_SSE;
    return o;
  };
  settings.stream_concurrency = 100;
  start_ok();
  auto stream = open(sse());
  ASSERT_TRUE(await_streams(1));
  auto req = open(get());
  ASSERT_TRUE(run_until([&] { return pool->stats().queued == 1; }));
  EXPECT_TRUE(http_scopes(launcher->worker(0)).empty());
  auto another = open(sse());
  ASSERT_TRUE(run_until([&] { return pool->stats().queued == 2; }));

  launcher->worker(0).send_scope_end(stream_scopes()[0]);
  // First come, first served across kinds: the request waited longest.
  ASSERT_TRUE(run_until([&] { return pool->stats().queued == 1; }));
  EXPECT_EQ(pool->stats().in_flight, 1u);
  const auto id = await_scope(0);
  EXPECT_EQ(stream_scopes().size(), 1u);  // the later sse still waits
  serve(id, *req);
  ASSERT_TRUE(await_streams(2));
  EXPECT_EQ(pool->stats().queued, 0u);
}

// An SSE request to an app without sse scopes (ASGI) comes as http; its
// Accept header still makes it a stream.
TEST_F(PoolStreamSlotsTest, EventStreamRequestAsHttpTakesAStreamSlot) {
  settings.concurrency = 2;
  start_ok();
  const std::vector<HeaderView> headers = {{"accept", "text/html, Text/Event-Stream ;q=0.9"}};
  ScopeRequest r = get("/events");
  r.headers = headers;
  std::vector<std::shared_ptr<FakeDownstream>> streams;
  for (int i = 0; i < 5; ++i) streams.push_back(open(r));
  await_scope(0, 5);
  EXPECT_EQ(pool->stats().streams, 5u);
  EXPECT_EQ(pool->stats().queued, 0u);
  const std::vector<HeaderView> plain_accept = {{"accept", "text/event-streams"}};
  ScopeRequest plain = get("/");
  plain.headers = plain_accept;
  auto a = open(plain);
  const auto id = await_scope(0, 6);
  EXPECT_EQ(pool->stats().streams, 5u);  // not an event stream: a request slot
  serve(id, *a);
}

}  // namespace
}  // namespace pagi::workers::testing
