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

struct PoolStats {
  std::size_t workers_ready = 0;  // accepting scopes
  std::size_t workers_alive = 0;  // not yet reaped
  std::size_t in_flight = 0;      // scopes running on workers
  std::size_t queued = 0;         // scopes waiting for a slot
  std::uint64_t restarts = 0;     // workers replaced after a loss
  bool crash_loop = false;
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

  // Graceful stop: queued scopes get shutting_down; running scopes may finish
  // until `in_flight_deadline` (then shutting_down); then every worker gets
  // lifespan shutdown, shutdown, SIGTERM, SIGKILL, each step bounded by the
  // settings. `done` runs when every worker has been reaped.
  void stop(Clock::time_point in_flight_deadline, std::function<void()> done);
  // Emergency: SIGKILL every worker, fail every scope (worker_lost) now.
  void kill_all();

  PoolStats stats() const;
  const PoolSettings& settings() const;

 private:
  std::shared_ptr<PoolCore> core_;
};

}  // namespace pagi::workers
