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

#include <chrono>
#include <cstddef>
#include <functional>
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

struct PoolStats {
  std::size_t workers_ready = 0;  // accepting scopes
  std::size_t workers_alive = 0;  // not yet reaped
  std::size_t in_flight = 0;      // scopes running on workers
  std::size_t queued = 0;         // scopes waiting for a slot
  std::uint64_t restarts = 0;     // workers replaced after a loss
  bool crash_loop = false;
  bool failed = false;            // crash loop with no worker serving: answers 503
  std::size_t workers_target = 0; // `workers`, moved by SIGTTIN/SIGTTOU
  std::uint64_t recycled = 0;     // workers replaced by max_requests/lifetime/rss/timeouts
  std::uint64_t generation = 0;   // reloads applied
};

// One worker as the admin endpoints (/status, /metrics) show it.
struct WorkerInfo {
  std::uint32_t id = 0;
  int pid = 0;
  std::string_view state;         // to_string(WorkerLife)
  std::uint64_t generation = 0;   // reload generation it was spawned for
  std::size_t in_flight = 0;
  std::uint64_t served = 0;       // scopes opened on it
  double ready_seconds = 0;       // time since it became ready; 0 before
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

  std::unique_ptr<Upstream> open_scope(const ScopeRequest& request,
                                       std::weak_ptr<Downstream> downstream) override;
  // By the scope types the workers named in hello (all, before any hello).
  bool supports(const ScopeRequest& request) override;

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
