// One worker of a pool: its process handle, its connection and the
// worker-level conversation (hello/welcome, lifespan, heartbeat, drain,
// shutdown). Scope events are handed to the pool (WorkerEvents); the worker
// only tracks which scopes it holds, by id.
//
// Life (one enum, one set_state that rejects illegal transitions):
//   spawning -> handshaking -> starting (lifespan) -> ready -> draining
//   any live state -> stopping (graceful stop, or lost and being killed)
//   any state -> dead (reaped)
// Lifetime: owned by the pool through a shared_ptr; timers and exit handlers
// hold weak_ptrs, so a worker can be dropped at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "workers/balancer.hpp"
#include "workers/pool_settings.hpp"
#include "workers/recycle_policy.hpp"
#include "workers/worker_connection.hpp"
#include "workers/worker_launcher.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::workers {

class Worker;

enum class WorkerLife : std::uint8_t { spawning, handshaking, starting, ready, draining, stopping, dead };
std::string_view to_string(WorkerLife life) noexcept;
bool legal_transition(WorkerLife from, WorkerLife to) noexcept;

// What a worker tells its pool. Calls may come from inside pool calls into
// the worker (e.g. a protocol error found by the pool); the pool must not
// destroy the worker from inside them.
class WorkerEvents {
 public:
  virtual ~WorkerEvents() = default;
  virtual std::uint64_t allocate_scope_id() = 0;
  virtual void on_worker_ready(Worker& worker) = 0;
  // A message for one of the pool's scopes (not the lifespan scope). The
  // frame is valid during the call; Frame::share keeps a part of it longer.
  virtual void on_worker_scope_message(Worker& worker, const protocol::Frame& frame) = 0;
  // The worker takes no more scopes and is being killed: it broke the
  // protocol, closed its socket, exited, missed heartbeats, timed out or
  // failed startup. `message` names the step; `app_failed` is true for the
  // app's own lifespan.startup.failed. Not called for a graceful stop.
  virtual void on_worker_lost(Worker& worker, const std::string& message, bool app_failed) = 0;
  // Reaped (after a loss or a stop). The pool may forget it.
  virtual void on_worker_exited(Worker& worker) = 0;
  // A draining worker still holds scopes at the end of its drain timeout.
  virtual void on_worker_drain_expired(Worker& worker) = 0;
  // A heartbeat tick found the previous heartbeat unanswered (for /metrics).
  virtual void on_heartbeat_missed(Worker& worker) { (void)worker; }
};

class Worker : public std::enable_shared_from_this<Worker>, private WorkerConnectionListener {
 public:
  using Clock = std::chrono::steady_clock;

  Worker(boost::asio::io_context& io, const PoolSettings& settings, WorkerEvents& events,
         std::shared_ptr<WorkerLauncher> launcher, std::uint32_t id);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Launches the process and waits for hello. False (with `error`) if it
  // could not even be launched; the worker is then dead.
  bool spawn(std::string& error);
  // Attach mode: a worker that connected by itself on `fd` (peer_pid from
  // SO_PEERCRED, 0 if unknown). It is never signalled: its "exit" is the end
  // of its connection, and the signals of the stop steps close it.
  void attach(int fd, int peer_pid);
  bool attached() const { return attached_; }
  // Attach mode, gateway stop: after lifespan shutdown the connection is
  // closed without `shutdown`, so the worker reconnects to the next gateway
  // instead of exiting.
  void release_on_stop() { release_ = true; }

  std::uint32_t id() const { return id_; }
  int pid() const { return pid_; }
  WorkerLife life() const { return life_; }
  bool accepting() const { return life_ == WorkerLife::ready; }
  std::size_t concurrency() const { return concurrency_; }
  // A reload's pool concurrency for a worker that stays (attach mode).
  void set_concurrency(std::size_t n) { concurrency_ = n; }
  // websocket/sse scopes it runs at once (pools.<name>.stream_concurrency);
  // a worker with concurrency 1 shares its single slot instead (balancer.hpp).
  std::size_t stream_concurrency() const { return stream_concurrency_; }
  void set_stream_concurrency(std::size_t n) { stream_concurrency_ = n; }
  // hello.scopeTypes (wire::SCOPE_BIT_*); 0 until hello.
  std::uint32_t scope_types() const { return scope_types_; }
  // hello.skipResponseDone: its apps have no on_complete, responseDone is waste.
  bool skip_response_done() const { return skip_response_done_; }
  // Every scope it runs, of any kind.
  std::size_t in_flight() const { return scopes_.size(); }
  // Of those, websocket/sse scopes (stream slots) and http scopes.
  std::size_t streams() const { return stream_scopes_.size(); }
  std::size_t requests_in_flight() const { return scopes_.size() - stream_scopes_.size(); }
  Clock::time_point ready_since() const { return ready_since_; }
  // The last wait status (valid once dead).
  int exit_status() const { return exit_status_; }
  // Why it was lost, one word for /metrics: crash, heartbeat, protocol_error,
  // startup_failed, startup_timeout.
  std::string_view loss_kind() const { return loss_kind_; }

  // A body span the worker put in its shared body ring, as bytes the
  // transport can hold; false with `why` when it breaks the ring's rules
  // (or the worker has no ring).
  bool take_ring_span(std::uint64_t position, std::uint32_t length, protocol::SharedBytes& out, const char*& why);
  // Size of its shared body ring; 0 for none (attached, or turned off).
  std::uint32_t body_ring_bytes() const;

  // Scopes. The opening frame is appended by the caller to output().
  std::string& output();
  // Appends credit for `scope`, after the ring's release position when one
  // is due: the credit a client write returns must not reach the worker
  // before the ring space that write freed, or the worker, finding its ring
  // full, sends the bodies that credit allows inline (docs/protocol.md 3c).
  void append_credit(std::uint64_t scope, std::uint64_t bytes);
  void flush();
  void add_scope(std::uint64_t scope, SlotKind kind = SlotKind::request);
  // Scopes ever opened on it (lifespan excluded): what max_requests counts.
  std::uint64_t scopes_opened() const { return scopes_opened_; }
  // scopeEnd received, or the pool gave up on the scope: frees its slot.
  void remove_scope(std::uint64_t scope) {
    if (scopes_.erase(scope) != 0 && !stream_scopes_.empty()) stream_scopes_.erase(scope);
  }
  bool holds_scope(std::uint64_t scope) const { return scopes_.count(scope) != 0; }
  // Ids are increasing per connection: above the last one is "never opened".
  bool ever_opened(std::uint64_t scope) const { return scope <= last_opened_; }
  const std::unordered_set<std::uint64_t>& scopes() const { return scopes_; }

  // Stop taking scopes; tell the worker (drain {timeoutMs}). When scopes are
  // still held after `timeout`, on_worker_drain_expired is called.
  void drain(std::chrono::milliseconds timeout);
  // Graceful stop: lifespan shutdown (if it ran), shutdown, then SIGTERM and
  // SIGKILL after the settings' grace periods. Ends with on_worker_exited.
  void stop();
  // The worker broke the protocol (or the pool gave up on it): report the
  // loss and kill it now.
  void fail(const std::string& message);
  // Emergency: SIGKILL, no loss report.
  void kill();

  // The pool's supervision bookkeeping for this worker (recycling, reload
  // generation); the worker itself never reads it.
  RecycleState recycle;

 private:
  struct Timers;
  enum class StopStep : std::uint8_t { none, lifespan_shutdown, awaiting_exit, terminated, killed };

  void set_state(WorkerLife next);
  void on_frame(const protocol::Frame& frame) override;
  void on_connection_closed(std::string_view what, std::error_code ec) override;
  void on_hello(wire::Hello::Reader hello);
  void on_lifespan_message(wire::Envelope::Reader message);
  void become_ready();
  void lose(const std::string& message, bool app_failed, int signal);
  void on_exit(int wait_status);
  void arm_step_timer(Seconds after);
  void cancel_step_timer();
  void on_step_timeout();
  void send_shutdown();
  void signal_process(int signal);
  void end_attached();
  void arm_heartbeat();
  // The ring's half (worker_body_ring.cpp).
  void use_body_ring(std::shared_ptr<BodyRing> ring);
  void announce_ring_release();
  void arm_ring_trim();
  void wait_ring_trim();
  static constexpr std::chrono::seconds kRingTrimDelay{1};
  void on_heartbeat_tick();
  std::string describe() const;

  boost::asio::io_context& io_;
  const PoolSettings settings_;  // a copy: a reload gives new workers new settings
  WorkerEvents& events_;
  std::shared_ptr<WorkerLauncher> launcher_;
  std::uint32_t id_;
  int pid_ = -1;
  WorkerLife life_ = WorkerLife::spawning;
  StopStep stop_step_ = StopStep::none;
  bool lost_ = false;
  bool attached_ = false;
  bool release_ = false;
  bool attached_ended_ = false;
  std::size_t concurrency_ = 1;
  std::size_t stream_concurrency_ = 0;
  std::uint32_t scope_types_ = 0;
  bool skip_response_done_ = false;
  std::shared_ptr<WorkerConnection> connection_;
  std::shared_ptr<BodyRing> body_ring_;
  std::unique_ptr<Timers> timers_;
  std::uint64_t lifespan_scope_ = 0;  // 0: no lifespan scope open
  bool lifespan_started_ = false;     // startup completed: shutdown is due at stop
  std::unordered_set<std::uint64_t> scopes_;
  std::unordered_set<std::uint64_t> stream_scopes_;  // subset of scopes_
  std::uint64_t last_opened_ = 0;
  std::uint64_t scopes_opened_ = 0;
  std::uint64_t heartbeat_sent_ = 0;
  std::uint64_t heartbeat_acked_ = 0;
  std::uint64_t step_generation_ = 0;
  Clock::time_point spawned_at_;
  Clock::time_point ready_since_;
  int exit_status_ = 0;
  std::string_view loss_kind_ = "crash";
};

}  // namespace pagi::workers
