// A pool of workers running one app: spawns them, waits for their startup,
// balances scopes over them, queues what does not fit, replaces crashed
// ones with backoff and stops them gracefully. It is the gateway's
// ScopeOpener.
//
// Use (all on one io_context thread):
//   ChildReaper reaper(io);                        // one per process
//   Pool pool(io, settings, make_process_launcher(reaper));
//   pool.start([](const PoolStartResult& r) { if (!r.ok) exit_with(r.message); });
//   ... listener->set_scope_opener(pool) ...
//   on SIGTERM: pool.stop(deadline, [] { /* every worker reaped */ });
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "workers/pool_settings.hpp"
#include "workers/upstream.hpp"
#include "workers/worker_launcher.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::workers {

class PoolCore;

struct PoolStartResult {
  bool ok = false;
  // Why the start failed: the app's lifespan.startup.failed message, or which
  // step of which worker failed (its stderr is already on the console).
  std::string message;
  bool app_failed = false;  // the app itself refused to start (lifespan)
};

struct PoolReloadResult {
  bool ok = false;
  std::string message;  // why the new generation failed
};

// Cumulative counts of waits (seconds) for /metrics, Prometheus' default
// buckets (the same as the gateway's request duration histograms).
struct WaitHistogram {
  static constexpr std::array<double, 11> bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
  std::array<std::uint64_t, bounds.size()> buckets{};  // cumulative: waits <= bounds[i]
  std::uint64_t count = 0;
  double sum = 0;
  void observe(double seconds) {
    ++count;
    sum += seconds;
    for (std::size_t i = 0; i < bounds.size(); ++i)
      if (seconds <= bounds[i]) ++buckets[i];
  }
};

struct PoolStats {
  std::size_t workers_ready = 0;  // accepting scopes
  std::size_t workers_alive = 0;  // not yet reaped
  std::size_t in_flight = 0;      // scopes running on workers
  std::size_t streams = 0;        // of those, websocket/sse scopes (stream slots)
  std::size_t queued = 0;         // scopes waiting for a slot
  std::uint64_t restarts = 0;     // workers replaced after a loss
  bool crash_loop = false;
  bool failed = false;             // crash loop with no worker serving: answers 503
  std::size_t workers_target = 0;  // `workers`, moved by SIGTTIN/SIGTTOU
  std::uint64_t recycled = 0;      // workers replaced by max_requests/lifetime/rss/timeouts
  std::uint64_t generation = 0;    // reloads applied
  // For /metrics, counted since the pool was made. Restart reasons: crash,
  // heartbeat, protocol_error, startup_failed, startup_timeout. Recycle
  // reasons: max_requests, max_lifetime, max_rss, request_timeout, reload.
  std::map<std::string, std::uint64_t, std::less<>> restarts_by_reason;
  std::map<std::string, std::uint64_t, std::less<>> recycles_by_reason;
  std::uint64_t heartbeat_misses = 0;  // heartbeat ticks that found the previous one unanswered
  std::uint64_t queue_overflows = 0;   // scopes refused: queue full (503)
  std::uint64_t queue_timeouts = 0;    // scopes that waited queue_timeout (503)
  WaitHistogram queue_wait;            // scopes handed to a worker: time spent queued (0 when none)
  std::size_t request_deadlines = 0;   // request_timeout entries held: at most 1024 or 2x the live scopes
  // httpResponseBody bytes by the way they came: through a worker's shared
  // body ring or inline through its socket (files not counted). Much
  // inline traffic from workers with a ring says the ring is too small.
  std::uint64_t body_bytes_ring = 0;
  std::uint64_t body_bytes_socket = 0;
};

// One worker as the admin endpoints (/status, /metrics) show it.
struct WorkerInfo {
  std::uint32_t id = 0;
  int pid = 0;
  std::string_view state;              // to_string(WorkerLife)
  std::uint64_t generation = 0;        // reload generation it was spawned for
  std::size_t in_flight = 0;           // scopes of any kind
  std::size_t streams = 0;             // of those, websocket/sse scopes (stream slots)
  std::size_t concurrency = 0;         // request slots (what hello or config said)
  std::size_t stream_concurrency = 0;  // stream slots; unused when concurrency is 1
  std::uint64_t served = 0;            // scopes opened on it
  double ready_seconds = 0;            // time since it became ready; 0 before
};

class Pool final : public ScopeOpener {
 public:
  using Clock = std::chrono::steady_clock;

  Pool(boost::asio::io_context& io, PoolSettings settings, std::shared_ptr<WorkerLauncher> launcher);
  // Kills what is still running (no callbacks); stop() first for a clean end.
  ~Pool() override;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Spawns settings.workers workers; `done` runs once, when all are ready or
  // when the first one fails to start (the pool then kills the rest).
  void start(std::function<void(const PoolStartResult&)> done);

  std::unique_ptr<Upstream> open_scope(const ScopeRequest& request, std::weak_ptr<Downstream> downstream) override;
  // By the scope types the workers named in hello (all, before any hello).
  bool supports(const ScopeRequest& request) override;
  std::size_t open_body_window(const ScopeRequest& request) override;

  // Graceful stop: queued scopes get shutting_down; running scopes may finish
  // until `in_flight_deadline` (then shutting_down); then every worker gets
  // lifespan shutdown, shutdown, SIGTERM, SIGKILL, each step bounded by the
  // settings. `done` runs when every worker has been reaped.
  void stop(Clock::time_point in_flight_deadline, std::function<void()> done);
  // Emergency: SIGKILL every worker, fail every scope (worker_lost) now.
  void kill_all();

  PoolStats stats() const;
  const PoolSettings& settings() const;
  // Every worker not yet reaped (pool_introspection.cpp).
  std::vector<WorkerInfo> workers() const;

  // Rolling replacement (SIGHUP): `settings` apply to new workers; old ones
  // are replaced one at a time, each new worker ready before an old one
  // drains. If a new worker fails to start, the reload stops, the old
  // settings come back and the remaining old workers keep serving.
  void reload(PoolSettings settings, std::function<void(const PoolReloadResult&)> done);
  // One worker more (+1) or less (-1), never below 1. Returns the new count.
  int resize(int delta);

 private:
  std::shared_ptr<PoolCore> core_;
};

}  // namespace pagi::workers
