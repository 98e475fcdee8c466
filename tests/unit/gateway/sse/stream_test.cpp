// SSE through the HTTP/1 connection over real sockets: detection, sse.start
// headers, events as chunks with credit, keepalive comments, close, decline,
// disconnects and the idle timeout. The fake pool plays the app.
#include "gateway/sse/stream.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/http1/http1_test_support.hpp"

namespace pagi::testing {
namespace {

constexpr std::string_view kSseGet = "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";

workers::SseEventView event(std::string_view data, std::string_view name = {}, std::string_view id = {}) {
  workers::SseEventView e;
  e.data = data;
  e.has_event = !name.empty();
  e.event = name;
  e.has_id = !id.empty();
  e.id = id;
  return e;
}

class SseStreamTest : public ::testing::Test {
 protected:
  void open(std::string_view request = kSseGet) {
    client = h.connect_tcp();
    client->send(request);
    ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  }
  bool wait_for(std::string_view text) {
    return h.run_until([&] {
      client->pump();
      return client->received.find(text) != std::string::npos;
    });
  }
  Http1Harness h;
  std::unique_ptr<RawClient> client;
};

TEST_F(SseStreamTest, StartSendCloseOnKeepAliveConnection) {
  open();
  auto& s = h.scope();
  EXPECT_EQ(s.request.type, wire::ScopeType::SSE);
  EXPECT_TRUE(s.request.has_body);  // GET: the single empty sse.request rides in the open
  s.sse_start();
  s.sse_send(event("line1\nline2", "update", "7"));
  ASSERT_TRUE(wait_for("data: line2\n\n"));
  const auto head = client->received.substr(0, client->received.find("\r\n\r\n"));
  EXPECT_NE(head.find("content-type: text/event-stream"), std::string::npos);
  EXPECT_NE(head.find("cache-control: no-cache"), std::string::npos);
  EXPECT_NE(head.find("transfer-encoding: chunked"), std::string::npos);
  EXPECT_NE(head.find("date: "), std::string::npos);
  EXPECT_NE(client->received.find("event: update\nid: 7\ndata: line1\ndata: line2\n\n"), std::string::npos);
  ASSERT_TRUE(h.run_until([&] { return s.written == 11; }));  // data bytes return as credit
  EXPECT_EQ(s.done_calls, 0);
  s.sse_close("job_complete");
  s.sse_close("again");  // idempotent
  ASSERT_TRUE(wait_for("0\r\n\r\n"));
  ASSERT_TRUE(h.run_until([&] { return s.done_calls == 1; }));
  const auto r = parse_responses(client->received);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].body, "event: update\nid: 7\ndata: line1\ndata: line2\n\n");
  // The connection serves the next request.
  client->send("GET /next HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 2; }));
  EXPECT_EQ(h.scope(1).request.type, wire::ScopeType::HTTP);
}

TEST_F(SseStreamTest, AppHeadersWinAndNoContentLength) {
  open();
  h.scope().sse_start(
      200,
      {{"content-type", "text/event-stream; charset=utf-8"}, {"content-length", "5"}, {"cache-control", "no-store"}});
  ASSERT_TRUE(wait_for("\r\n\r\n"));
  EXPECT_EQ(client->count("content-type"), 1u);
  EXPECT_NE(client->received.find("charset=utf-8"), std::string::npos);
  EXPECT_NE(client->received.find("cache-control: no-store"), std::string::npos);
  EXPECT_EQ(client->received.find("no-cache"), std::string::npos);
  EXPECT_EQ(client->received.find("content-length"), std::string::npos);
}

TEST_F(SseStreamTest, CommentsAndKeepalive) {
  open();
  auto& s = h.scope();
  s.sse_start();
  s.sse_comment("hello");
  ASSERT_TRUE(wait_for(":hello\n\n"));
  s.sse_keepalive(10, "ping");
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return client->count(":ping\n\n") >= 2;
  }));
  s.sse_keepalive(0);
  h.settle();
  client->pump();
  const auto pings = client->count(":ping\n\n");
  h.run_until([] { return false; }, std::chrono::milliseconds(40));
  client->pump();
  EXPECT_EQ(client->count(":ping\n\n"), pings);  // stopped
  EXPECT_EQ(s.written, 0u);                      // comments carry no credit
}

TEST_F(SseStreamTest, DeclineWithOrdinaryResponse) {
  open();
  h.scope().respond(204, "");
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return parse_responses(client->received).size() == 1;
  }));
  EXPECT_EQ(parse_responses(client->received)[0].status, 204u);
  h.scope().sse_send(event("late"));  // the pool rejects this; the exchange ignores it too
  h.settle();
  client->pump();
  EXPECT_EQ(client->received.find("late"), std::string::npos);
}

TEST_F(SseStreamTest, AppReturnEndsTheStream) {
  open();
  h.scope().sse_start();
  h.scope().sse_send(event("last"));
  h.scope().app_done(false);
  ASSERT_TRUE(wait_for("0\r\n\r\n"));
  EXPECT_EQ(parse_responses(client->received)[0].body, "data: last\n\n");
  EXPECT_TRUE(h.scope().disconnects.empty());
}

TEST_F(SseStreamTest, ClientGoneIsClientClosed) {
  open();
  h.scope().sse_start();
  ASSERT_TRUE(wait_for("\r\n\r\n"));
  client->close();
  ASSERT_TRUE(h.run_until([&] { return !h.scope().disconnects.empty(); }));
  EXPECT_EQ(h.scope().disconnects[0], DisconnectReason::client_closed);
}

TEST_F(SseStreamTest, IdleTimeoutEndsTheStream) {
  h.settings.sse_idle_timeout = gateway::Seconds(0.02);
  open();
  h.scope().sse_start();
  ASSERT_TRUE(wait_for("0\r\n\r\n"));
  ASSERT_EQ(h.scope().disconnects.size(), 1u);
  EXPECT_EQ(h.scope().disconnects[0], DisconnectReason::idle_timeout);
}

TEST_F(SseStreamTest, LongStreamNotCutByKeepAliveOrHeaderTimers) {
  h.settings.keepalive_timeout = gateway::Seconds(0.01);
  h.settings.header_timeout = gateway::Seconds(0.01);
  open();
  h.scope().sse_start();
  for (int i = 0; i < 5; ++i) {
    h.run_until([] { return false; }, std::chrono::milliseconds(15));
    h.scope().sse_send(event("tick"));
  }
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return client->count("data: tick\n\n") == 5;
  }));
  EXPECT_TRUE(h.scope().disconnects.empty());
  EXPECT_FALSE(client->eof());
}

TEST_F(SseStreamTest, GracefulShutdownEndsStream) {
  open();
  h.scope().sse_start();
  ASSERT_TRUE(wait_for("\r\n\r\n"));
  for (auto& w : h.connections)
    if (auto c = w.lock()) c->shutdown_gracefully();
  ASSERT_TRUE(wait_for("0\r\n\r\n"));
  ASSERT_EQ(h.scope().disconnects.size(), 1u);
  EXPECT_EQ(h.scope().disconnects[0], DisconnectReason::server_shutdown);
}

TEST_F(SseStreamTest, PostWithBody) {
  open("POST /events HTTP/1.1\r\nAccept: text/event-stream\r\nContent-Length: 4\r\n\r\nabcd");
  auto& s = h.scope();
  EXPECT_EQ(s.request.type, wire::ScopeType::SSE);
  EXPECT_EQ(s.request.method, "POST");
  s.grant(100);
  ASSERT_TRUE(h.run_until([&] { return s.body_complete; }));
  EXPECT_EQ(s.body, "abcd");
}

TEST_F(SseStreamTest, PoolWithoutSseGetsPlainHttp) {
  h.opener.sse_supported = false;
  open();
  EXPECT_EQ(h.scope().request.type, wire::ScopeType::HTTP);
  h.scope().start(200, {{"content-type", "text/event-stream"}});
  h.scope().send("data: 1\n\n", true);
  ASSERT_TRUE(wait_for("data: 1\n\n"));  // streamed through unbuffered
}

}  // namespace
}  // namespace pagi::testing
