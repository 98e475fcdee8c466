#include "gateway/observability/metrics.hpp"

#include <map>
#include <sstream>
#include <unistd.h>

#include <gtest/gtest.h>

namespace pagi::gateway::observability {
namespace {

// name{labels} -> value, from the exposition text; checks every line parses.
std::map<std::string, double> parse(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

ExchangeRecord record(std::string method, std::uint16_t status, bool gateway = false) {
  ExchangeRecord r;
  r.method = std::move(method);
  r.status = status;
  r.pool = "app";
  r.gateway_response = gateway;
  r.bytes_in = 10;
  r.bytes_out = 100;
  r.ended = r.started + std::chrono::milliseconds(30);
  r.response_started = r.started + std::chrono::milliseconds(20);
  return r;
}

TEST(Metrics, CountersMoveWithExchanges) {
  Metrics m;
  m.on_connection_opened("http1");
  m.on_connection_opened("http1");
  m.on_connection_closed("http1");
  m.on_exchange_end(record("GET", 200));
  m.on_exchange_end(record("GET", 204));
  m.on_exchange_end(record("BREW", 503, true));
  auto r = record("POST", 0);
  r.disconnect_reason = "client_closed";
  m.on_exchange_end(r);

  PoolSnapshot pool;
  pool.name = "app";
  pool.stats.in_flight = 3;
  pool.stats.queued = 1;
  pool.stats.workers_target = 2;
  pool.stats.restarts = 4;
  pool.stats.restarts_by_reason = {{"crash", 3}, {"heartbeat", 1}};
  pool.stats.recycles_by_reason = {{"max_requests", 2}};
  pool.stats.heartbeat_misses = 5;
  pool.stats.queue_overflows = 6;
  pool.stats.queue_timeouts = 1;
  pool.stats.body_bytes_ring = 1 << 20;
  pool.stats.body_bytes_socket = 4096;
  pool.stats.queue_wait.observe(0);
  pool.stats.queue_wait.observe(0.2);
  WorkerSnapshot w;
  w.pid = 77;
  w.state = "ready";
  w.rss_bytes = 1234;
  w.served = 9;
  pool.workers = {w, w};
  pool.workers[1].pid = 78;
  pool.workers[1].state = "draining";
  std::string text;
  m.render(text, std::span(&pool, 1), true, 5);
  const auto v = parse(text);

  EXPECT_EQ(v.at("pagi_requests_total{pool=\"app\",method=\"GET\",status=\"2xx\"}"), 2);
  EXPECT_EQ(v.at("pagi_requests_total{pool=\"app\",method=\"OTHER\",status=\"5xx\"}"), 1);
  EXPECT_EQ(v.at("pagi_requests_total{pool=\"app\",method=\"POST\",status=\"none\"}"), 1);
  EXPECT_EQ(v.at("pagi_request_duration_seconds_count{pool=\"app\"}"), 4);
  EXPECT_EQ(v.at("pagi_request_duration_seconds_bucket{pool=\"app\",le=\"0.025\"}"), 0);
  EXPECT_EQ(v.at("pagi_request_duration_seconds_bucket{pool=\"app\",le=\"0.05\"}"), 4);
  EXPECT_EQ(v.at("pagi_request_duration_seconds_bucket{pool=\"app\",le=\"+Inf\"}"), 4);
  EXPECT_NEAR(v.at("pagi_request_duration_seconds_sum{pool=\"app\"}"), 0.12, 1e-9);
  EXPECT_EQ(v.at("pagi_upstream_duration_seconds_count{pool=\"app\"}"), 2);
  EXPECT_EQ(v.at("pagi_gateway_responses_total{status=\"503\"}"), 1);
  EXPECT_EQ(v.at("pagi_disconnects_total{reason=\"client_closed\"}"), 1);
  EXPECT_EQ(v.at("pagi_connections_open{protocol=\"http1\"}"), 1);
  EXPECT_EQ(v.at("pagi_connections_total{protocol=\"http1\"}"), 2);
  EXPECT_EQ(v.at("pagi_received_bytes_total{protocol=\"http1\"}"), 40);
  EXPECT_EQ(v.at("pagi_sent_bytes_total{protocol=\"http1\"}"), 400);
  EXPECT_EQ(v.at("pagi_scopes_in_flight{pool=\"app\"}"), 3);
  EXPECT_EQ(v.at("pagi_queue_depth{pool=\"app\"}"), 1);
  EXPECT_EQ(v.at("pagi_workers{pool=\"app\",state=\"ready\"}"), 1);
  EXPECT_EQ(v.at("pagi_workers{pool=\"app\",state=\"draining\"}"), 1);
  EXPECT_EQ(v.at("pagi_workers{pool=\"app\",state=\"starting\"}"), 0);
  EXPECT_EQ(v.at("pagi_worker_restarts_total{pool=\"app\",reason=\"crash\"}"), 3);
  EXPECT_EQ(v.at("pagi_worker_restarts_total{pool=\"app\",reason=\"heartbeat\"}"), 1);
  EXPECT_EQ(v.at("pagi_worker_restarts_total{pool=\"app\",reason=\"protocol_error\"}"), 0);
  EXPECT_EQ(v.at("pagi_worker_recycles_total{pool=\"app\",reason=\"max_requests\"}"), 2);
  EXPECT_EQ(v.at("pagi_worker_recycles_total{pool=\"app\",reason=\"reload\"}"), 0);
  EXPECT_EQ(v.at("pagi_worker_heartbeat_misses_total{pool=\"app\"}"), 5);
  EXPECT_EQ(v.at("pagi_queue_overflows_total{pool=\"app\"}"), 6);
  EXPECT_EQ(v.at("pagi_queue_timeouts_total{pool=\"app\"}"), 1);
  EXPECT_EQ(v.at("pagi_response_body_bytes_total{pool=\"app\",via=\"ring\"}"), 1 << 20);
  EXPECT_EQ(v.at("pagi_response_body_bytes_total{pool=\"app\",via=\"socket\"}"), 4096);
  EXPECT_EQ(v.at("pagi_queue_wait_seconds_bucket{pool=\"app\",le=\"0.005\"}"), 1);
  EXPECT_EQ(v.at("pagi_queue_wait_seconds_bucket{pool=\"app\",le=\"0.25\"}"), 2);
  EXPECT_EQ(v.at("pagi_queue_wait_seconds_count{pool=\"app\"}"), 2);
  EXPECT_EQ(v.at("pagi_worker_resident_memory_bytes{pool=\"app\",pid=\"78\"}"), 1234);
  EXPECT_EQ(v.at("pagi_worker_scopes_served_total{pool=\"app\",pid=\"77\"}"), 9);
  EXPECT_EQ(v.at("pagi_access_log_dropped_total"), 5);
  EXPECT_EQ(v.at("pagi_ready"), 1);
  EXPECT_GT(v.at("process_resident_memory_bytes"), 0);
  EXPECT_GT(v.at("process_open_fds"), 0);
  EXPECT_GT(v.at("process_start_time_seconds"), 1.6e9);
}

// The slots remembered from the last exchange must follow every change of
// pool, protocol, method and status class, and come back to the right ones.
TEST(Metrics, AlternatingKeysCountSeparately) {
  Metrics m;
  auto in = [](std::string pool, std::string_view protocol, std::string method, std::uint16_t status) {
    auto r = record(std::move(method), status);
    r.pool = std::move(pool);
    r.protocol = protocol;
    return r;
  };
  m.on_exchange_end(in("app", "http1", "GET", 200));
  m.on_exchange_end(in("api", "http1", "GET", 200));
  m.on_exchange_end(in("app", "http2", "GET", 200));
  m.on_exchange_end(in("app", "http2", "POST", 200));
  m.on_exchange_end(in("app", "http2", "POST", 404));
  m.on_exchange_end(in("", "http1", "GET", 200));
  m.on_exchange_end(in("app", "http1", "GET", 200));
  std::string text;
  m.render(text, {}, true, 0);
  const auto v = parse(text);
  EXPECT_EQ(v.at("pagi_requests_total{pool=\"app\",method=\"GET\",status=\"2xx\"}"), 3);
  EXPECT_EQ(v.at("pagi_requests_total{pool=\"api\",method=\"GET\",status=\"2xx\"}"), 1);
  EXPECT_EQ(v.at("pagi_requests_total{pool=\"app\",method=\"POST\",status=\"2xx\"}"), 1);
  EXPECT_EQ(v.at("pagi_requests_total{pool=\"app\",method=\"POST\",status=\"4xx\"}"), 1);
  EXPECT_EQ(v.at("pagi_requests_total{pool=\"-\",method=\"GET\",status=\"2xx\"}"), 1);
  EXPECT_EQ(v.at("pagi_request_duration_seconds_count{pool=\"app\"}"), 5);
  EXPECT_EQ(v.at("pagi_request_duration_seconds_count{pool=\"api\"}"), 1);
  EXPECT_EQ(v.at("pagi_upstream_duration_seconds_count{pool=\"app\"}"), 5);
  EXPECT_EQ(v.at("pagi_upstream_duration_seconds_count{pool=\"api\"}"), 1);
  EXPECT_EQ(v.at("pagi_received_bytes_total{protocol=\"http1\"}"), 40);
  EXPECT_EQ(v.at("pagi_received_bytes_total{protocol=\"http2\"}"), 30);
}

TEST(Metrics, SessionsOpenUntilTheirExchangeEnds) {
  Metrics m;
  m.on_session_opened("websocket");
  m.on_session_opened("websocket");
  m.on_session_opened("sse");
  auto r = record("GET", 101);
  r.scope_type = "websocket";
  m.on_exchange_end(r);
  m.on_exchange_end(record("GET", 200));  // a plain request changes nothing
  std::string text;
  m.render(text, {}, true, 0);
  const auto v = parse(text);
  EXPECT_EQ(v.at("pagi_sessions_open{type=\"websocket\"}"), 1);
  EXPECT_EQ(v.at("pagi_sessions_total{type=\"websocket\"}"), 2);
  EXPECT_EQ(v.at("pagi_sessions_open{type=\"sse\"}"), 1);
  EXPECT_EQ(v.at("pagi_session_duration_seconds_count{type=\"websocket\"}"), 1);
}

TEST(Metrics, EveryFamilyHasHelpAndType) {
  Metrics m;
  m.on_exchange_end(record("GET", 200));
  std::string text;
  m.render(text, {}, false, 0);
  std::istringstream in(text);
  std::string line, last_type;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      last_type = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const auto name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(last_type, 0), 0u) << name << " outside its family " << last_type;
  }
}

TEST(Metrics, ReadsNoHeaders) { EXPECT_FALSE(Metrics().wants_headers()); }

TEST(Metrics, OwnRssIsReadFromProc) { EXPECT_GT(process_rss_bytes(::getpid()), 0u); }

}  // namespace
}  // namespace pagi::gateway::observability
