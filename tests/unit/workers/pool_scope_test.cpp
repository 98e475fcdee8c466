// One scope's conversation through the pool, against a fake worker.
#include <array>

#include "tests/unit/workers/pool_fixture.hpp"

namespace pagi::workers::testing {
namespace {

std::string text(capnp::Text::Reader t) { return {t.begin(), t.size()}; }
std::string data(capnp::Data::Reader d) { return {reinterpret_cast<const char*>(d.begin()), d.size()}; }

TEST_F(PoolTest, OpenCarriesEveryScopeField) {
  start_ok();
  const std::array<HeaderView, 2> headers = {HeaderView{"host", "example.test"}, HeaderView{"x-a", "b"}};
  const std::array<std::string_view, 2> protos = {"chat", "superchat"};
  ScopeRequest r;
  r.type = wire::ScopeType::HTTP;
  r.http_version = "1.0";
  r.method = "POST";
  r.scheme = "https";
  r.path = "/a b";
  r.raw_path = "/a%20b";
  r.query_string = "x=1&y=%20";
  r.root_path = "/app";
  r.headers = headers;
  r.client_host = "10.0.0.1";
  r.client_port = 5555;
  r.server_host = "10.0.0.2";
  r.server_port = 8080;
  r.server_is_unix = false;
  r.subprotocols = protos;
  r.has_body = true;
  r.body = "abc";
  r.more = true;
  r.expect_continue = false;
  r.extensions = wire::EXT_FULLFLUSH | wire::EXT_TLS;
  r.request_id = "req-1";
  r.peer_host = "192.0.2.1";
  r.peer_port = 4711;
  auto ds = open(r);
  await_scope(0);
  auto o = launcher->worker(0).received_of(E::OPEN).back().getOpen();
  EXPECT_EQ(o.getType(), wire::ScopeType::HTTP);
  EXPECT_EQ(text(o.getHttpVersion()), "1.0");
  EXPECT_EQ(text(o.getMethod()), "POST");
  EXPECT_EQ(text(o.getScheme()), "https");
  EXPECT_EQ(text(o.getPath()), "/a b");
  EXPECT_EQ(data(o.getRawPath()), "/a%20b");
  EXPECT_EQ(data(o.getQueryString()), "x=1&y=%20");
  EXPECT_EQ(text(o.getRootPath()), "/app");
  ASSERT_EQ(o.getHeaders().size(), 4u);
  EXPECT_EQ(data(o.getHeaders()[0]), "host");
  EXPECT_EQ(data(o.getHeaders()[1]), "example.test");
  EXPECT_EQ(data(o.getHeaders()[3]), "b");
  EXPECT_EQ(text(o.getClientHost()), "10.0.0.1");
  EXPECT_EQ(o.getClientPort(), 5555);
  EXPECT_EQ(text(o.getServerHost()), "10.0.0.2");
  EXPECT_EQ(o.getServerPort(), 8080);
  EXPECT_FALSE(o.getServerIsUnix());
  ASSERT_EQ(o.getSubprotocols().size(), 2u);
  EXPECT_EQ(text(o.getSubprotocols()[1]), "superchat");
  EXPECT_TRUE(o.getHasBody());
  EXPECT_EQ(data(o.getBody()), "abc");
  EXPECT_TRUE(o.getMore());
  EXPECT_FALSE(o.getExpectContinue());
  EXPECT_EQ(o.getExtensions(), wire::EXT_FULLFLUSH | wire::EXT_TLS);
  EXPECT_EQ(text(o.getRequestId()), "req-1");
  EXPECT_EQ(text(o.getPeerHost()), "192.0.2.1");
  EXPECT_EQ(o.getPeerPort(), 4711);
  // The body in the open counted against the window.
  EXPECT_EQ(ds->upstream->request_window(), settings.receive_window - 3);
}

TEST_F(PoolTest, GetRoundTrip) {
  start_ok();
  auto ds = open(get("/hello"));
  const std::uint64_t id = await_scope(0);
  FakeWorker& w = launcher->worker(0);
  w.send_start(id, 200, {{"content-type", "text/plain"}});
  w.send_body(id, "hello world", false);
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  EXPECT_EQ(ds->status, 200);
  ASSERT_EQ(ds->headers.size(), 1u);
  EXPECT_EQ(ds->headers[0].first, "content-type");
  EXPECT_EQ(ds->body, "hello world");

  ds->upstream->response_written(5);
  ds->upstream->response_written(6);
  // The response is complete: its credit would wake the worker for nothing,
  // so it rides with responseDone, in one credit frame.
  ds->upstream->response_done();
  ASSERT_TRUE(run_until([&] { return w.count_of(E::RESPONSE_DONE) == 1; }));
  EXPECT_EQ(w.received_of(E::RESPONSE_DONE)[0].getScope(), id);
  EXPECT_EQ(w.credit_for(id), 11u);
  EXPECT_EQ(w.count_of(E::CREDIT), 1u);

  w.send_scope_end(id);
  ASSERT_TRUE(run_until([&] { return ds->app_done_failed.has_value(); }));
  EXPECT_FALSE(*ds->app_done_failed);
  EXPECT_EQ(pool->stats().in_flight, 0u);
  EXPECT_TRUE(ds->errors.empty());
}

TEST_F(PoolTest, ScopeIdsIncrease) {
  settings.concurrency = 10;
  start_ok();
  auto a = open(get());
  auto b = open(get());
  auto c = open(get());
  await_scope(0, 3);
  const auto ids = http_scopes(launcher->worker(0));
  EXPECT_LT(ids[0], ids[1]);
  EXPECT_LT(ids[1], ids[2]);
}

TEST_F(PoolTest, FramesOfOneTurnShareOneWrite) {
  settings.concurrency = 10;
  start_ok();
  FakeWorker& w = launcher->worker(0);
  ASSERT_TRUE(run_until([&] { return w.count_of(E::LIFESPAN_STARTUP) == 1; }));
  const std::size_t reads_before = w.reads();
  auto a = open(get());
  auto b = open(get());
  auto c = open(get());
  await_scope(0, 3);
  EXPECT_EQ(w.reads(), reads_before + 1);
}

TEST_F(PoolTest, RequestBodyStreamsWithinCredit) {
  settings.receive_window = 10;
  start_ok();
  ScopeRequest r = get();
  r.method = "POST";
  r.has_body = false;  // the body follows
  auto ds = open(r);
  const std::uint64_t id = await_scope(0);
  FakeWorker& w = launcher->worker(0);
  EXPECT_EQ(ds->upstream->request_window(), 10u);
  ds->upstream->send_body("12345", true);
  ds->upstream->send_body("67890", true);
  EXPECT_EQ(ds->upstream->request_window(), 0u);
  ASSERT_TRUE(run_until([&] { return w.count_of(E::HTTP_REQUEST) == 2; }));
  w.send_credit(id, 6);
  ASSERT_TRUE(run_until([&] { return ds->credit_calls == 1; }));
  EXPECT_EQ(ds->upstream->request_window(), 6u);
  // Credit never grows the window beyond receive_window.
  w.send_credit(id, 100);
  ASSERT_TRUE(run_until([&] { return ds->credit_calls == 2; }));
  EXPECT_EQ(ds->upstream->request_window(), 10u);
  ds->upstream->send_body("x", false);
  ASSERT_TRUE(run_until([&] { return w.count_of(E::HTTP_REQUEST) == 3; }));
  auto last = w.received_of(E::HTTP_REQUEST).back().getHttpRequest();
  EXPECT_EQ(data(last.getBody()), "x");
  EXPECT_FALSE(last.getMore());
}

TEST_F(PoolTest, ExpectContinueWaitsForTheWorkersFirstCredit) {
  start_ok();
  ScopeRequest r = get();
  r.method = "PUT";
  r.has_body = false;
  r.expect_continue = true;
  auto ds = open(r);
  const std::uint64_t id = await_scope(0);
  EXPECT_EQ(ds->upstream->request_window(), 0u);
  EXPECT_TRUE(launcher->worker(0).received_of(E::OPEN).back().getOpen().getExpectContinue());
  launcher->worker(0).send_credit(id, settings.receive_window);
  ASSERT_TRUE(run_until([&] { return ds->credit_calls == 1; }));
  EXPECT_EQ(ds->upstream->request_window(), settings.receive_window);
}

TEST_F(PoolTest, ResponseBodyWithinSendWindowThanksToCredit) {
  settings.send_window = 16;
  start_ok();
  auto ds = open(get());
  ds->auto_write = true;  // bytes reach the client at once -> credit flows back
  const std::uint64_t id = await_scope(0);
  FakeWorker& w = launcher->worker(0);
  w.send_start(id, 200);
  w.send_body(id, std::string(10, 'a'), true);
  ASSERT_TRUE(run_until([&] { return w.credit_for(id) == 10; }));
  w.send_body(id, std::string(10, 'b'), true);
  ASSERT_TRUE(run_until([&] { return w.credit_for(id) == 20; }));
  w.send_body(id, std::string(10, 'c'), false);
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  EXPECT_EQ(ds->body.size(), 30u);
  EXPECT_TRUE(ds->errors.empty());
  ASSERT_TRUE(run_until([&] { return w.count_of(E::RESPONSE_DONE) == 1; }));
}

TEST_F(PoolTest, TrailersFlushAndFile) {
  settings.concurrency = 2;
  start_ok();
  auto ds = open(get());
  const std::uint64_t id = await_scope(0);
  FakeWorker& w = launcher->worker(0);
  w.send_start(id, 200, {}, true);
  w.send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.setHttpFullflush();
  });
  w.send_body(id, "x", false);
  w.send_trailers(id, {{"x-checksum", "abc"}});
  ASSERT_TRUE(run_until([&] { return !ds->trailers.empty(); }));
  EXPECT_TRUE(ds->trailers_announced);
  EXPECT_EQ(ds->flushes, 1);
  EXPECT_EQ(ds->trailers[0].second, "abc");

  auto ds2 = open(get());
  const std::uint64_t id2 = await_scope(0, 2);
  w.send_start(id2, 200);
  w.send_file(id2, "/etc/hostname", 0, -1);
  ASSERT_TRUE(run_until([&] { return !ds2->file.empty(); }));
  EXPECT_EQ(ds2->file, "/etc/hostname");
  EXPECT_TRUE(ds->errors.empty());
  EXPECT_TRUE(ds2->errors.empty());
}

TEST_F(PoolTest, FailedScopeEndReachesDownstream) {
  start_ok();
  auto ds = open(get());
  const std::uint64_t id = await_scope(0);
  launcher->worker(0).send_scope_end(id, true, "boom");
  ASSERT_TRUE(run_until([&] { return ds->app_done_failed.has_value(); }));
  EXPECT_TRUE(*ds->app_done_failed);
}

TEST_F(PoolTest, DroppedUpstreamDisconnectsTheScope) {
  start_ok();
  auto ds = open(get());
  const std::uint64_t id = await_scope(0);
  ds->upstream.reset();
  FakeWorker& w = launcher->worker(0);
  ASSERT_TRUE(run_until([&] { return w.count_of(E::HTTP_DISCONNECT) == 1; }));
  auto d = w.received_of(E::HTTP_DISCONNECT)[0];
  EXPECT_EQ(d.getScope(), id);
  EXPECT_EQ(text(d.getHttpDisconnect().getReason()), "server_error");
  // Late events for it are ignored; scopeEnd frees the slot.
  w.send_start(id, 200);
  w.send_scope_end(id);
  ASSERT_TRUE(run_until([&] { return pool->stats().in_flight == 0; }));
  EXPECT_EQ(ds->status, std::nullopt);
  EXPECT_EQ(launcher->workers().size(), 1u);
}

TEST_F(PoolTest, ExpiredDownstreamGetsTheAppDisconnected) {
  start_ok();
  auto ds = open(get());
  const std::uint64_t id = await_scope(0);
  auto upstream = std::move(ds->upstream);
  ds.reset();
  FakeWorker& w = launcher->worker(0);
  w.send_start(id, 200);
  ASSERT_TRUE(run_until([&] { return w.count_of(E::HTTP_DISCONNECT) == 1; }));
}

TEST_F(PoolTest, ClientDisconnectReachesTheApp) {
  start_ok();
  auto ds = open(get());
  const std::uint64_t id = await_scope(0);
  ds->upstream->disconnect(DisconnectReason::client_closed);
  ds->upstream->disconnect(DisconnectReason::client_closed);  // idempotent
  FakeWorker& w = launcher->worker(0);
  ASSERT_TRUE(run_until([&] { return w.count_of(E::HTTP_DISCONNECT) == 1; }));
  EXPECT_EQ(text(w.received_of(E::HTTP_DISCONNECT)[0].getHttpDisconnect().getReason()), "client_closed");
  w.send_start(id, 200);
  w.send_scope_end(id);
  ASSERT_TRUE(run_until([&] { return pool->stats().in_flight == 0; }));
  EXPECT_EQ(ds->status, std::nullopt);  // no Downstream call after disconnect
  EXPECT_FALSE(ds->app_done_failed.has_value());
}

TEST_F(PoolTest, QueueOverflowAndTimeout) {
  settings.concurrency = 1;
  settings.queue_size = 1;
  settings.queue_timeout = Seconds(0.1);
  start_ok();
  auto a = open(get());  // runs
  auto b = open(get());  // waits
  auto c = open(get());  // no room
  EXPECT_TRUE(c->errors.empty()) << "errors never come from inside open_scope";
  ASSERT_TRUE(run_until([&] { return !c->errors.empty(); }));
  EXPECT_EQ(c->errors[0], UpstreamError::queue_full);
  EXPECT_EQ(b->upstream->request_window(), 0u);  // queued: no credit yet
  ASSERT_TRUE(run_until([&] { return !b->errors.empty(); }));
  EXPECT_EQ(b->errors[0], UpstreamError::queue_timeout);
  EXPECT_TRUE(a->errors.empty());
}

TEST_F(PoolTest, QueuedScopeRunsWhenASlotFrees) {
  settings.concurrency = 1;
  start_ok();
  ScopeRequest post = get();
  post.method = "POST";
  post.has_body = false;
  auto a = open(get());
  auto b = open(post);
  const std::uint64_t ida = await_scope(0);
  EXPECT_EQ(pool->stats().queued, 1u);
  launcher->worker(0).send_scope_end(ida);
  const std::uint64_t idb = await_scope(0, 2);
  EXPECT_GT(idb, ida);
  // Dispatch opened its request window: the transport hears about it.
  EXPECT_EQ(b->credit_calls, 1);
  EXPECT_EQ(b->upstream->request_window(), settings.receive_window);
  EXPECT_TRUE(b->errors.empty());
}

TEST_F(PoolTest, BalancesToTheLeastLoadedWorker) {
  settings.workers = 2;
  settings.concurrency = 5;
  start_ok();
  auto a = open(get());
  auto b = open(get());
  ASSERT_TRUE(run_until(
      [&] { return http_scopes(launcher->worker(0)).size() + http_scopes(launcher->worker(1)).size() == 2; }));
  EXPECT_EQ(http_scopes(launcher->worker(0)).size(), 1u);
  EXPECT_EQ(http_scopes(launcher->worker(1)).size(), 1u);
}

TEST_F(PoolTest, ConcurrencyFromHelloWhenSettingIsZero) {
  settings.concurrency = 0;
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.concurrency = 2;
    return o;
  };
  start_ok();
  auto a = open(get());
  auto b = open(get());
  auto c = open(get());
  await_scope(0, 2);
  EXPECT_EQ(pool->stats().queued, 1u);
}

}  // namespace
}  // namespace pagi::workers::testing
