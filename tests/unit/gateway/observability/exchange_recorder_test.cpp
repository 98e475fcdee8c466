#include "gateway/observability/exchange_recorder.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace pagi::gateway::observability {
namespace {

class Collect : public ExchangeObserver {
 public:
  std::vector<ExchangeRecord> records;
  int opened = 0, closed = 0;
  std::vector<std::string> sessions;
  void on_session_opened(std::string_view type) override { sessions.emplace_back(type); }
  void on_connection_opened(std::string_view) override { ++opened; }
  void on_connection_closed(std::string_view) override { ++closed; }
  void on_exchange_end(const ExchangeRecord& r) override { records.push_back(r); }
};

workers::ScopeRequest scope() {
  static const workers::HeaderView headers[] = {{"host", "x"}, {"user-agent", "t"}};
  workers::ScopeRequest s;
  s.method = "POST";
  s.raw_path = "/p";
  s.query_string = "a=1";
  s.http_version = "1.1";
  s.headers = headers;
  s.client_host = "10.0.0.1";
  s.client_port = 5;
  s.request_id = "rid";
  return s;
}

TEST(ExchangeRecorder, OneRecordPerExchangeWithEverythingSeen) {
  Collect c;
  ExchangeRecorder rec(&c);
  rec.connection_opened();
  rec.bytes_in(40);  // the head, read before the scope opened
  rec.begin(scope());
  rec.bytes_in(10);  // body
  const workers::HeaderView out[] = {{"content-type", "text/plain"}};
  rec.response_head(201, out, 30, false);
  rec.bytes_out(35);
  rec.upstream("app", 99);
  rec.finish(DisconnectReason::none);
  rec.finish(DisconnectReason::client_closed);  // once only
  rec.connection_closed();
  ASSERT_EQ(c.records.size(), 1u);
  const auto& r = c.records[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.raw_path, "/p");
  EXPECT_EQ(r.query, "a=1");
  EXPECT_EQ(r.client_host, "10.0.0.1");
  EXPECT_EQ(r.request_id, "rid");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.bytes_in, 50u);
  EXPECT_EQ(r.bytes_out, 35u);
  EXPECT_EQ(r.body_bytes_out(), 5u);
  EXPECT_EQ(r.pool, "app");
  EXPECT_EQ(r.worker_pid, 99);
  EXPECT_EQ(r.disconnect_reason, "");
  std::string_view ua;
  EXPECT_TRUE(r.request_headers.find("User-Agent", ua));
  EXPECT_EQ(ua, "t");
  EXPECT_GE(r.ended, r.response_started);
  EXPECT_GE(r.response_started, r.started);
  EXPECT_EQ(c.opened, 1);
  EXPECT_EQ(c.closed, 1);
}

TEST(ExchangeRecorder, AbortedAndRejectedExchanges) {
  Collect c;
  ExchangeRecorder rec(&c);
  rec.begin(scope());
  rec.finish(DisconnectReason::client_closed);
  rec.begin_rejected("10.0.0.2", 7, "gen");
  rec.response_head(400, {}, 80, true);
  rec.bytes_out(92);
  rec.finish(DisconnectReason::none);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0].status, 0);
  EXPECT_EQ(c.records[0].disconnect_reason, "client_closed");
  EXPECT_EQ(c.records[1].status, 400);
  EXPECT_TRUE(c.records[1].gateway_response);
  EXPECT_TRUE(c.records[1].method.empty());
  EXPECT_EQ(c.records[1].request_id, "gen");
  EXPECT_EQ(c.records[1].body_bytes_out(), 12u);
}

TEST(ExchangeRecorder, WebSocketSessionHooksAndHandedOverBytes) {
  Collect c;
  ExchangeRecorder http(&c);
  http.bytes_in(120);  // the upgrade request, read before any exchange
  EXPECT_EQ(http.take_pending_in(), 120u);
  EXPECT_EQ(http.take_pending_in(), 0u);
  http.begin(scope());
  EXPECT_TRUE(c.sessions.empty());  // a plain request is no session
  http.finish(DisconnectReason::none);

  ExchangeRecorder ws(&c, "websocket");
  auto s = scope();
  s.type = wire::ScopeType::WEBSOCKET;
  ws.begin(s);
  ws.bytes_in(120);
  ws.close_code(1000);
  ws.close_code(1006);  // the first one stays
  ws.finish(DisconnectReason::none);
  ASSERT_EQ(c.sessions, std::vector<std::string>{"websocket"});
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[1].scope_type, "websocket");
  EXPECT_EQ(c.records[1].protocol, "websocket");
  EXPECT_EQ(c.records[1].close_code, 1000);
  EXPECT_EQ(c.records[1].bytes_in, 120u);
  EXPECT_EQ(c.records[0].close_code, 0);
}

// An observer that reads no headers (the metrics) spares the recorder
// copying them; the rest of the record is filled all the same.
class NoHeaders : public Collect {
 public:
  bool wants_headers() const override { return false; }
};

TEST(ExchangeRecorder, HeadersAreRecordedOnlyWhenAnObserverWantsThem) {
  NoHeaders plain;
  ExchangeRecorder rec(&plain);
  rec.begin(scope());
  const workers::HeaderView out[] = {{"content-type", "text/plain"}};
  rec.response_head(200, out, 30, false);
  rec.finish(DisconnectReason::none);
  ASSERT_EQ(plain.records.size(), 1u);
  EXPECT_EQ(plain.records[0].request_headers.size(), 0u);
  EXPECT_EQ(plain.records[0].response_headers.size(), 0u);
  EXPECT_EQ(plain.records[0].method, "POST");
  EXPECT_EQ(plain.records[0].status, 200);

  // A list wants them when any member does.
  Collect full;
  ObserverList both;
  both.add(&plain);
  EXPECT_FALSE(both.wants_headers());
  both.add(&full);
  EXPECT_TRUE(both.wants_headers());
  ExchangeRecorder rec2(&both);
  rec2.begin(scope());
  rec2.response_head(200, out, 30, false);
  rec2.finish(DisconnectReason::none);
  ASSERT_EQ(full.records.size(), 1u);
  EXPECT_EQ(full.records[0].request_headers.size(), 2u);
  EXPECT_EQ(full.records[0].response_headers.size(), 1u);
}

TEST(ExchangeRecorder, WithoutObserverNothingHappens) {
  ExchangeRecorder rec(nullptr);
  EXPECT_FALSE(rec.enabled());
  rec.begin(scope());
  EXPECT_FALSE(rec.in_exchange());
  rec.finish(DisconnectReason::none);
}

}  // namespace
}  // namespace pagi::gateway::observability
