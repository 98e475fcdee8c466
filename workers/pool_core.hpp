// The pool's state, shared by Pool (its owner) and the Upstreams it hands
// out (which hold it by weak_ptr, so a transport may outlive the pool).
// Supervision (spawn, replace, stop) is in pool_core.cpp; the scopes'
// conversation, both directions, in pool_scopes.cpp.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workers/attach_listener.hpp"
#include "workers/backoff.hpp"
#include "workers/balancer.hpp"
#include "workers/pool.hpp"
#include "workers/recycle_policy.hpp"
#include "workers/request_queue.hpp"
#include "workers/scope_table.hpp"
#include "workers/worker.hpp"

namespace pagi::workers {

// websocket and sse scopes take stream slots; http scopes request slots,
// except an http scope whose Accept lists text/event-stream: that is an SSE
// request to an app that takes no sse scopes (ASGI), long-lived all the same.
SlotKind slot_kind(const ScopeRequest& request);

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
  // Introspection for the admin endpoints (pool_introspection.cpp).
  std::vector<WorkerInfo> worker_infos() const;
  int scope_worker_pid(std::uint64_t id) const;
  const PoolSettings& settings() const { return settings_; }
  PoolState state() const { return state_; }
  // Attach mode: workers connect to settings_.attach; none is spawned.
  bool attached() const { return !settings_.attach.empty(); }

  // Rolling replacement of every worker with `settings` (pool.hpp).
  void reload(PoolSettings settings, std::function<void(const PoolReloadResult&)> done);
  // SIGTTIN/SIGTTOU: one worker more or less (never below 1). Returns the
  // new target.
  int resize(int delta);

  // Upstream calls, by scope id.
  std::size_t request_window(std::uint64_t id);
  void send_body(std::uint64_t id, std::string_view chunk, bool more);
  void response_written(std::uint64_t id, std::size_t bytes);
  void response_done(std::uint64_t id);
  void disconnect(std::uint64_t id, DisconnectReason reason);
  void upstream_released(std::uint64_t id);
  // websocket/sse scopes (pool_stream_scopes.cpp).
  void send_message(std::uint64_t id, bool text, std::string_view payload);
  void websocket_closed(std::uint64_t id, std::uint16_t code, std::string_view reason);
  bool supports(const ScopeRequest& request) const;

  // WorkerEvents.
  std::uint64_t allocate_scope_id() override { return ++last_scope_id_; }
  void on_worker_ready(Worker& worker) override;
  void on_worker_scope_message(Worker& worker, const protocol::Frame& frame) override;
  void on_worker_lost(Worker& worker, const std::string& message, bool app_failed) override;
  void on_worker_exited(Worker& worker) override;
  void on_worker_drain_expired(Worker& worker) override;
  void on_heartbeat_missed(Worker&) override { ++heartbeat_misses_; }

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
  // Attach mode (pool_attach.cpp).
  void open_attach_socket();
  void close_attach_socket();
  void on_attach(int fd, int peer_pid);
  bool has_live_worker() const;
  // Recycling and the worker count (pool_recycle.cpp).
  std::size_t effective_workers() const;
  bool has_accepting_worker() const;
  void reconcile();
  void begin_recycle(Worker& worker, const std::string& reason);
  void count_recycle(std::string_view kind) { ++recycles_by_reason_[std::string(kind)]; }
  void retire_now(Worker& worker);
  void drain_one_retiree();
  void expire_drain(Worker& worker);
  void arm_check_timer();
  void on_check_timer();
  void advance_reload();
  void fail_reload(const std::string& message);
  void apply_queue_settings();
  void finish_reload();
  void track_request_deadline(std::uint64_t id);
  void arm_request_timer();
  void on_request_timer();
  void on_request_timeout(std::uint64_t id);
  // A request_timeout still applies: no response started, scope not over.
  bool awaits_response(std::uint64_t id);
  void prune_request_deadlines();
  // Below this many queued deadlines nothing is pruned.
  static constexpr std::size_t kMinDeadlinesToPrune = 1024;
  void arm_cancel_timer();
  void on_cancel_timer();
  void fail_pool_scopes_if_down();
  // Scopes.
  Worker* pick_worker(SlotKind kind = SlotKind::request);
  void dispatch(std::uint64_t id, ScopeRecord& record, Worker& worker, const ScopeRequest* request, SlotKind kind);
  void dispatch_queued();
  void dispatch_queued(SlotKind kind);
  void arm_queue_timer();
  void on_queue_timer();
  // Tells the transport the scope cannot be served; no Downstream call after.
  void fail_scope(std::uint64_t id, UpstreamError error);
  void post_fail_scope(std::uint64_t id, UpstreamError error);
  void on_scope_end(Worker& worker, std::uint64_t id, wire::ScopeEnd::Reader end);
  // `span`: the message's body ring span (empty when it has none).
  void on_scope_event(Worker& worker, std::uint64_t id, ScopeRecord& record, const protocol::Frame& frame,
                      const protocol::SharedBytes& span);
  // The body ring span a message carries, if any, taken as it arrives:
  // checked and accounted whether or not the message is delivered (its
  // scope may have ended, its client left), so one dropped unread is
  // released at once and the ring's release position moves past it.
  // False when the span broke the rules (the worker has failed).
  bool take_ring_span(Worker& worker, std::uint64_t id, wire::Envelope::Reader message, protocol::SharedBytes& span);
  void on_stream_scope_event(Worker& worker, std::uint64_t id, ScopeRecord& record, wire::Envelope::Reader message);
  // httpDisconnect / sseDisconnect / websocketDisconnect {1006, reason}.
  void append_disconnect(Worker& worker, std::uint64_t id, const ScopeRecord& record, DisconnectReason reason);
  void queue_credit(std::uint64_t id, ScopeRecord& record);
  void flush_credits();
  bool credit_due(const ScopeRecord& record) const;
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
  std::vector<WorkerLoad> loads_;           // scratch for the balancer
  std::vector<HeaderView> header_scratch_;  // scratch for Downstream header spans
  std::size_t rotate_ = 0;                  // balancer tie-break rotation
  // Supervision beyond crash restarts.
  int target_workers_ = 0;        // settings_.workers, moved by resize()
  std::uint64_t generation_ = 0;  // bumped by every reload
  RecyclePolicy recycle_policy_;
  std::uint64_t recycled_ = 0;
  // For /metrics (PoolStats).
  std::map<std::string, std::uint64_t, std::less<>> restarts_by_reason_;
  std::map<std::string, std::uint64_t, std::less<>> recycles_by_reason_;
  std::uint64_t heartbeat_misses_ = 0;
  std::uint64_t queue_overflows_ = 0;
  std::uint64_t body_bytes_ring_ = 0;
  std::uint64_t body_bytes_socket_ = 0;
  std::uint64_t queue_timeouts_ = 0;
  WaitHistogram queue_wait_;
  bool check_timer_armed_ = false;
  struct RequestDeadline {
    Clock::time_point at;
    std::uint64_t scope;
    std::uint32_t worker = 0;  // cancel watch only
  };
  std::deque<RequestDeadline> request_deadlines_;  // FIFO: one timeout per pool
  bool request_timer_armed_ = false;
  std::deque<RequestDeadline> cancel_watch_;  // timed-out scopes given cancel_grace
  bool cancel_timer_armed_ = false;
  struct Reload {
    PoolSettings previous;
    int previous_target = 0;
    std::vector<std::uint32_t> pending;  // old workers still to replace, oldest first
    std::function<void(const PoolReloadResult&)> done;
  };
  std::optional<Reload> reload_;
  std::unique_ptr<AttachListener> attach_listener_;
};

// The Upstream handed to transports (pool_upstream.cpp).
std::unique_ptr<Upstream> make_pool_upstream(std::weak_ptr<PoolCore> core, std::uint64_t id);

}  // namespace pagi::workers
