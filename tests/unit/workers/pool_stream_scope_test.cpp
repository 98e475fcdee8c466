// websocket and sse scopes through the pool, against a fake worker: the
// extra messages (websocketConnect, websocketReceive, websocketDisconnect,
// sseRequest, sseDisconnect), the dispatch of the worker's events to the
// Downstream, their order rules and the send window.
#include "tests/unit/workers/pool_fixture.hpp"

namespace pagi::workers::testing {
namespace {

std::string text(capnp::Text::Reader t) { return {t.begin(), t.size()}; }
std::string data(capnp::Data::Reader d) { return {reinterpret_cast<const char*>(d.begin()), d.size()}; }

class PoolStreamTest : public PoolTest {
 protected:
  PoolStreamTest() {
    launcher->options_for = [](std::size_t) {
      FakeWorkerOptions o;
      o.scope_types = wire::SCOPE_BIT_HTTP | wire::SCOPE_BIT_WEBSOCKET | wire::SCOPE_BIT_SSE;
      return o;
    };
  }
  static ScopeRequest of_type(wire::ScopeType type) {
    ScopeRequest r = get("/s");
    r.type = type;
    if (type == wire::ScopeType::WEBSOCKET) r.has_body = false;
    return r;
  }
  std::uint64_t await_open(std::size_t n = 1) {
    EXPECT_TRUE(run_until([&] {
      return !launcher->workers().empty() && launcher->worker(0).count_of(E::OPEN) >= n + 1;  // + lifespan
    }));
    return launcher->worker(0).received_of(E::OPEN).back().getScope();
  }
  FakeWorker& worker() { return launcher->worker(0); }
  bool worker_lost(const FakeDownstream& ds) {
    return run_until([&] { return !ds.errors.empty(); }) && ds.errors[0] == UpstreamError::worker_lost;
  }
};

TEST_F(PoolStreamTest, SupportsFollowsHelloScopeTypes) {
  launcher->options_for = [](std::size_t) { return FakeWorkerOptions{}; };  // http only, like ASGI
  start_ok();
  EXPECT_TRUE(pool->supports(of_type(wire::ScopeType::HTTP)));
  EXPECT_FALSE(pool->supports(of_type(wire::ScopeType::SSE)));
  EXPECT_FALSE(pool->supports(of_type(wire::ScopeType::WEBSOCKET)));
}

TEST_F(PoolStreamTest, WebsocketConversation) {
  start_ok();
  EXPECT_TRUE(pool->supports(of_type(wire::ScopeType::WEBSOCKET)));
  auto ds = open(of_type(wire::ScopeType::WEBSOCKET));
  ds->auto_write = true;
  const auto id = await_open();
  ASSERT_TRUE(run_until([&] { return worker().count_of(E::WEBSOCKET_CONNECT) == 1; }));
  EXPECT_EQ(worker().received_of(E::OPEN).back().getOpen().getType(), wire::ScopeType::WEBSOCKET);
  const auto kinds = worker().kinds();
  EXPECT_EQ(kinds.back(), E::WEBSOCKET_CONNECT);
  EXPECT_EQ(kinds[kinds.size() - 2], E::OPEN);

  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto a = e.initWebsocketAccept();
    a.setHasSubprotocol(true);
    a.setSubprotocol("chat");
  });
  ASSERT_TRUE(run_until([&] { return ds->accepted_subprotocol.has_value(); }));
  EXPECT_EQ(*ds->accepted_subprotocol, "chat");

  ds->upstream->send_message(true, "hello");
  ds->upstream->send_message(false, std::string("\0\1", 2));
  ASSERT_TRUE(run_until([&] { return worker().count_of(E::WEBSOCKET_RECEIVE) == 2; }));
  auto r = worker().received_of(E::WEBSOCKET_RECEIVE);
  EXPECT_TRUE(r[0].getWebsocketReceive().getIsText());
  EXPECT_EQ(text(r[0].getWebsocketReceive().getText()), "hello");
  EXPECT_FALSE(r[1].getWebsocketReceive().getIsText());
  EXPECT_EQ(data(r[1].getWebsocketReceive().getBytes()), std::string("\0\1", 2));
  EXPECT_EQ(ds->upstream->request_window(), settings.receive_window - 7);
  worker().send_credit(id, 7);
  ASSERT_TRUE(run_until([&] { return ds->upstream->request_window() == settings.receive_window; }));

  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto m = e.initWebsocketSend();
    m.setIsText(true);
    m.setText("back");
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto k = e.initWebsocketKeepalive();
    k.setIntervalMs(1000);
    k.setTimeoutMs(500);
  });
  ASSERT_TRUE(run_until([&] { return !ds->ws_keepalives.empty(); }));
  EXPECT_EQ(ds->ws_sent[0], (std::pair<bool, std::string>{true, "back"}));
  EXPECT_EQ(ds->ws_keepalives[0], (std::pair<std::uint32_t, std::uint32_t>{1000, 500}));
  ASSERT_TRUE(run_until([&] { return worker().credit_for(id) == 4; }));

  ds->upstream->websocket_closed(1001, "going");
  ASSERT_TRUE(run_until([&] { return worker().count_of(E::WEBSOCKET_DISCONNECT) == 1; }));
  auto d = worker().received_of(E::WEBSOCKET_DISCONNECT)[0].getWebsocketDisconnect();
  EXPECT_EQ(d.getCode(), 1001);
  EXPECT_EQ(text(d.getReason()), "going");
  ds->upstream->websocket_closed(1000, "");  // once only
  worker().send_scope_end(id);
  ASSERT_TRUE(run_until([&] { return pool->stats().in_flight == 0; }));
  EXPECT_EQ(worker().count_of(E::WEBSOCKET_DISCONNECT), 1u);
}

TEST_F(PoolStreamTest, WebsocketAbnormalDisconnectIs1006WithReason) {
  start_ok();
  auto ds = open(of_type(wire::ScopeType::WEBSOCKET));
  await_open();
  ds->upstream->disconnect(DisconnectReason::client_closed);
  ASSERT_TRUE(run_until([&] { return worker().count_of(E::WEBSOCKET_DISCONNECT) == 1; }));
  auto d = worker().received_of(E::WEBSOCKET_DISCONNECT)[0].getWebsocketDisconnect();
  EXPECT_EQ(d.getCode(), 1006);
  EXPECT_EQ(text(d.getReason()), "client_closed");
  EXPECT_EQ(worker().count_of(E::HTTP_DISCONNECT), 0u);
}

TEST_F(PoolStreamTest, WebsocketSendBeforeAcceptCostsTheWorker) {
  start_ok();
  auto ds = open(of_type(wire::ScopeType::WEBSOCKET));
  const auto id = await_open();
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initWebsocketSend().setIsText(false);
  });
  EXPECT_TRUE(worker_lost(*ds));
}

TEST_F(PoolStreamTest, WebsocketSendAfterCloseIsIgnoredDenialAfterAcceptToo) {
  start_ok();
  auto ds = open(of_type(wire::ScopeType::WEBSOCKET));
  const auto id = await_open();
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initWebsocketAccept();
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initWebsocketHttpResponseStart().setStatus(401);
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto c = e.initWebsocketClose();
    c.setCode(4000);
    c.setReason("bye");
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto m = e.initWebsocketSend();
    m.setIsText(true);
    m.setText("late");
  });
  ASSERT_TRUE(run_until([&] { return !ds->ws_closes.empty(); }));
  worker().send_scope_end(id);
  ASSERT_TRUE(run_until([&] { return ds->app_done_failed.has_value(); }));
  EXPECT_TRUE(ds->errors.empty());
  EXPECT_FALSE(ds->status.has_value());
  EXPECT_TRUE(ds->ws_sent.empty());
  EXPECT_EQ(ds->ws_closes[0], (std::pair<std::uint16_t, std::string>{4000, "bye"}));
}

TEST_F(PoolStreamTest, WebsocketDenialResponse) {
  start_ok();
  auto ds = open(of_type(wire::ScopeType::WEBSOCKET));
  ds->auto_write = true;
  const auto id = await_open();
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initWebsocketHttpResponseStart().setStatus(401);
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto b = e.initWebsocketHttpResponseBody();
    b.setBody(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>("no"), 2));
  });
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  EXPECT_EQ(*ds->status, 401);
  EXPECT_EQ(ds->body, "no");
}

TEST_F(PoolStreamTest, SseConversation) {
  start_ok();
  ScopeRequest r = of_type(wire::ScopeType::SSE);
  r.method = "POST";
  r.has_body = false;
  auto ds = open(r);
  ds->auto_write = true;
  const auto id = await_open();
  EXPECT_EQ(worker().received_of(E::OPEN).back().getOpen().getType(), wire::ScopeType::SSE);
  ds->upstream->send_body("abc", false);
  ASSERT_TRUE(run_until([&] { return worker().count_of(E::SSE_REQUEST) == 1; }));
  EXPECT_EQ(data(worker().received_of(E::SSE_REQUEST)[0].getSseRequest().getBody()), "abc");
  EXPECT_EQ(worker().count_of(E::HTTP_REQUEST), 0u);

  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initSseStart().setStatus(200);
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto s = e.initSseSend();
    s.setRetry(-1);
    s.setData("payload");
    s.setHasEvent(true);
    s.setEvent("tick");
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.setSseComment("note");
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto k = e.initSseKeepalive();
    k.setIntervalMs(250);
    k.setComment("ka");
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.setSseClose("done");
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.setSseClose("twice");
  });
  ASSERT_TRUE(run_until([&] { return !ds->sse_closes.empty(); }));
  EXPECT_EQ(*ds->sse_status, 200);
  ASSERT_EQ(ds->sse_events.size(), 1u);
  EXPECT_EQ(ds->sse_events[0], "tick|-|-1|payload");
  EXPECT_EQ(ds->sse_comments, std::vector<std::string>{"note"});
  EXPECT_EQ(ds->sse_keepalives[0], (std::pair<std::uint32_t, std::string>{250, "ka"}));
  EXPECT_EQ(ds->sse_closes, std::vector<std::string>{"done"});
  ASSERT_TRUE(run_until([&] { return worker().credit_for(id) == 7; }));
  // A send after close breaks the rules.
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initSseSend().setData("x");
  });
  EXPECT_TRUE(worker_lost(*ds));
}

TEST_F(PoolStreamTest, SseDisconnectAndDeclineRules) {
  start_ok();
  auto ds = open(of_type(wire::ScopeType::SSE));
  const auto id = await_open();
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initSseHttpResponseStart().setStatus(204);
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initSseHttpResponseBody();
  });
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  EXPECT_EQ(*ds->status, 204);
  ds->upstream->disconnect(DisconnectReason::client_closed);
  ASSERT_TRUE(run_until([&] { return worker().count_of(E::SSE_DISCONNECT) == 1; }));
  EXPECT_EQ(text(worker().received_of(E::SSE_DISCONNECT)[0].getSseDisconnect().getReason()), "client_closed");
  worker().send_scope_end(id);  // frees the worker's one slot

  auto ds2 = open(of_type(wire::ScopeType::SSE));
  const auto id2 = await_open(2);
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id2);
    e.initSseHttpResponseStart().setStatus(204);
  });
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id2);
    e.initSseStart().setStatus(200);
  });
  EXPECT_TRUE(worker_lost(*ds2));
}

TEST_F(PoolStreamTest, DrainExpiryClosesLongLivedScopesThroughTheTransport) {
  settings.concurrency = 2;
  settings.max_requests = 1;  // the worker recycles after this scope
  settings.drain_timeout = Seconds(0.05);
  start_ok();
  auto ds = open(of_type(wire::ScopeType::WEBSOCKET));
  const auto id = await_open();
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initWebsocketAccept();
  });
  ASSERT_TRUE(run_until([&] { return !ds->server_closes.empty(); }));
  EXPECT_EQ(ds->server_closes, std::vector<bool>{false});  // recycle, not reload: 1001
  ASSERT_TRUE(run_until([&] { return worker().count_of(E::WEBSOCKET_DISCONNECT) == 1; }));
  auto d = worker().received_of(E::WEBSOCKET_DISCONNECT)[0].getWebsocketDisconnect();
  EXPECT_EQ(d.getCode(), 1006);
  EXPECT_EQ(text(d.getReason()), "server_shutdown");
  EXPECT_EQ(worker().count_of(E::HTTP_DISCONNECT), 0u);
}

TEST_F(PoolStreamTest, WebsocketEventOnSseScopeIsAViolation) {
  start_ok();
  auto ds = open(of_type(wire::ScopeType::SSE));
  const auto id = await_open();
  worker().send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    e.initWebsocketAccept();
  });
  EXPECT_TRUE(worker_lost(*ds));
}

}  // namespace
}  // namespace pagi::workers::testing
