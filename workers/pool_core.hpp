// The pool's state, shared by Pool (its owner) and the Upstreams it hands
// out (which hold it by weak_ptr, so a transport may outlive the pool).
// Supervision (spawn, replace, stop) is in pool_core.cpp; the scopes'
// conversation, both directions, in pool_scopes.cpp.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workers/backoff.hpp"
#include "workers/balancer.hpp"
#include "workers/pool.hpp"
#include "workers/request_queue.hpp"
#include "workers/scope_table.hpp"
#include "workers/worker.hpp"

namespace pagi::workers {

enum class PoolState : std::uint8_t { idle, starting, running, stopping, stopped, failed };
std::string_view to_string(PoolState state) noexcept;

class PoolCore final : public std::enable_shared_from_this<PoolCore>, public WorkerEvents {
 public:
  using Clock = std::chrono::steady_clock;

  PoolCore(boost::asio::io_context& io, PoolSettings settings, std::shared_ptr<WorkerLauncher> launcher);
  ~PoolCore() override;

  void start(std::function<void(const PoolStartResult&)> done);
  std::unique_ptr<Upstream> open_scope(const ScopeRequest& request, std::weak_ptr<Downstream> downstream);
  void stop(Clock::time_point in_flight_deadline, std::function<void()> done);
  void kill_all(bool notify);
  PoolStats stats() const;
  const PoolSettings& settings() const { return settings_; }

  // Upstream calls, by scope id.
  std::size_t request_window(std::uint64_t id);
  void send_body(std::uint64_t id, std::string_view chunk, bool more);
  void response_written(std::uint64_t id, std::size_t bytes);
  void response_done(std::uint64_t id);
  void disconnect(std::uint64_t id, DisconnectReason reason);
  void upstream_released(std::uint64_t id);

  // WorkerEvents.
  std::uint64_t allocate_scope_id() override { return ++last_scope_id_; }
  void on_worker_ready(Worker& worker) override;
  void on_worker_scope_message(Worker& worker, wire::Envelope::Reader message) override;
  void on_worker_lost(Worker& worker, const std::string& message, bool app_failed) override;
  void on_worker_exited(Worker& worker) override;

 private:
  struct Timers;

  void set_state(PoolState next);
  std::string describe() const;
  // Supervision.
  void spawn_worker();
  void schedule_replacement(Worker& lost);
  void restart_after(Backoff::Duration delay);
  void cancel_restarts();
  void finish_start(PoolStartResult result);
  void maybe_finish_stop();
  void on_stop_deadline();
  Worker* find_worker(std::uint32_t id);
  // Scopes.
  Worker* pick_worker();
  void dispatch(std::uint64_t id, ScopeRecord& record, Worker& worker, const ScopeRequest* request);
  void dispatch_queued();
  void arm_queue_timer();
  void on_queue_timer();
  // Tells the transport the scope cannot be served; no Downstream call after.
  void fail_scope(std::uint64_t id, UpstreamError error);
  void post_fail_scope(std::uint64_t id, UpstreamError error);
  void on_scope_end(Worker& worker, std::uint64_t id, wire::ScopeEnd::Reader end);
  void on_scope_event(Worker& worker, std::uint64_t id, ScopeRecord& record,
                      wire::Envelope::Reader message);
  void queue_credit(std::uint64_t id, ScopeRecord& record);
  void flush_credits();
  void release_worker_scopes(Worker& worker, UpstreamError error);

  boost::asio::io_context& io_;
  PoolSettings settings_;
  std::shared_ptr<WorkerLauncher> launcher_;
  std::unique_ptr<Timers> timers_;
  PoolState state_ = PoolState::idle;
  std::map<std::uint32_t, std::shared_ptr<Worker>> workers_;
  std::uint32_t last_worker_id_ = 0;
  std::uint64_t last_scope_id_ = 0;
  ScopeTable scopes_;
  RequestQueue queue_;
  std::optional<Clock::time_point> queue_timer_deadline_;
  Backoff backoff_;
  int failed_starts_ = 0;
  bool crash_loop_ = false;
  std::uint64_t restarts_ = 0;
  std::size_t pending_restarts_ = 0;
  std::uint64_t restart_generation_ = 0;
  std::function<void(const PoolStartResult&)> start_done_;
  std::vector<std::function<void()>> stop_done_;
  std::vector<std::uint64_t> credit_dirty_;
  bool credit_flush_posted_ = false;
  std::vector<WorkerLoad> loads_;          // scratch for the balancer
  std::vector<HeaderView> header_scratch_; // scratch for Downstream header spans
  std::size_t rotate_ = 0;                 // balancer tie-break rotation
};

// The Upstream handed to transports (pool_upstream.cpp).
std::unique_ptr<Upstream> make_pool_upstream(std::weak_ptr<PoolCore> core, std::uint64_t id);

}  // namespace pagi::workers
