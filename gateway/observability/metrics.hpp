// Prometheus metrics of the gateway: counters and histograms fed by the
// exchange hook (requests, durations, bytes, connections), plus gauges read
// at scrape time from the pools (workers, queue, in-flight scopes) and from
// /proc (process and per-worker memory). Rendered in the Prometheus text
// exposition format, version 0.0.4.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/observability/exchange_observer.hpp"
#include "workers/pool.hpp"

namespace pagi::gateway::observability {

struct WorkerSnapshot {
  int pid = 0;
  std::string state;  // spawning handshaking starting ready draining stopping dead
  std::uint64_t generation = 0;
  std::size_t in_flight = 0;
  std::size_t streams = 0;      // of in_flight, websocket/sse scopes (stream slots)
  std::uint64_t served = 0;     // scopes opened on it
  std::uint64_t rss_bytes = 0;  // 0 when unknown
  double uptime_seconds = 0;    // since it became ready; 0 before
};

struct PoolSnapshot {
  std::string name;
  workers::PoolStats stats;
  std::vector<WorkerSnapshot> workers;
};

// Resident memory of a process from /proc/PID/statm (0 when unknown).
std::uint64_t process_rss_bytes(int pid);

// Prometheus histogram lines from cumulative bucket counts.
void render_histogram(std::string& out, std::string_view name, std::string_view labels, std::span<const double> bounds,
                      std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum);

class Histogram {
 public:
  // Upper bounds in seconds, Prometheus' default buckets: wide enough for a
  // 1 ms static answer and a 10 s slow app.
  static constexpr std::array<double, 11> bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
  void observe(double seconds);
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::uint64_t, bounds.size()> counts_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics final : public ExchangeObserver {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;  // last_ points into its own maps
  Metrics& operator=(const Metrics&) = delete;

  void on_connection_opened(std::string_view protocol) override;
  void on_connection_closed(std::string_view protocol) override;
  void on_exchange_end(const ExchangeRecord& record) override;
  void on_session_opened(std::string_view scope_type) override;
  bool wants_headers() const override { return false; }

  // The full exposition. `ready` is the /readyz answer; `dropped_log_lines`
  // what the access log could not write.
  void render(std::string& out, std::span<const PoolSnapshot> pools, bool ready, std::uint64_t dropped_log_lines) const;

 private:
  struct PerProtocol {
    std::int64_t open = 0;
    std::uint64_t opened = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
  };
  PerProtocol& protocol(std::string_view name);

  std::map<std::string, PerProtocol, std::less<>> protocols_;
  // key: pool \0 method \0 status class
  std::map<std::string, std::uint64_t, std::less<>> requests_;
  std::map<std::string, Histogram, std::less<>> durations_;              // by pool
  std::map<std::string, Histogram, std::less<>> upstream_durations_;     // by pool
  std::map<std::string, std::uint64_t, std::less<>> gateway_responses_;  // by status
  std::map<std::string, std::uint64_t, std::less<>> disconnects_;        // by reason
  struct Sessions {
    std::int64_t open = 0;
    std::uint64_t opened = 0;
  };
  std::map<std::string, Sessions, std::less<>> sessions_;            // websocket, sse
  std::map<std::string, Histogram, std::less<>> session_durations_;  // by scope type
  std::string key_;                                                  // scratch
  // The slots of the last exchange: consecutive ones nearly always share
  // protocol, pool, method and status class, and then skip the lookups by
  // string. Map nodes never move and no entry is erased, so the pointers
  // stay valid; method and status_class view string literals.
  struct LastSlots {
    std::string protocol;
    PerProtocol* per_protocol = nullptr;
    std::string pool;
    Histogram* durations = nullptr;
    Histogram* upstream = nullptr;  // looked up on first use
    std::string_view method;
    std::string_view status_class;
    std::uint64_t* requests = nullptr;
  };
  LastSlots last_;
};

}  // namespace pagi::gateway::observability
