// Supervision of a pool's workers: start, replacement with backoff, crash
// loop reporting, graceful stop; and where scopes go (balancer, queue).
#include "workers/pool_core.hpp"

#include <list>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "workers/event_stream_accept.hpp"
#include "workers/pool_timers.hpp"
#include "workers/worker_messages.hpp"

namespace pagi::workers {

namespace asio = boost::asio;

std::string_view to_string(PoolState state) noexcept {
  switch (state) {
    case PoolState::idle: return "idle";
    case PoolState::starting: return "starting";
    case PoolState::running: return "running";
    case PoolState::stopping: return "stopping";
    case PoolState::stopped: return "stopped";
    case PoolState::failed: return "failed";
  }
  return "?";
}

PoolCore::PoolCore(asio::io_context& io, PoolSettings settings, std::shared_ptr<WorkerLauncher> launcher)
    : io_(io),
      settings_(std::move(settings)),
      launcher_(std::move(launcher)),
      timers_(std::make_unique<Timers>(io)),
      queue_(settings_.queue_size, std::chrono::duration_cast<Clock::duration>(settings_.queue_timeout)),
      backoff_(settings_.restart_delay, settings_.restart_delay_max),
      target_workers_(settings_.workers) {}

PoolCore::~PoolCore() = default;

std::string PoolCore::describe() const { return fmt::format("pool={}", settings_.name); }

void PoolCore::set_state(PoolState next) {
  spdlog::debug("{}: {} -> {}", describe(), to_string(state_), to_string(next));
  state_ = next;
}

Worker* PoolCore::find_worker(std::uint32_t id) {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : it->second.get();
}

// ---- start ------------------------------------------------------------------

void PoolCore::start(std::function<void(const PoolStartResult&)> done) {
  if (state_ != PoolState::idle) {
    asio::post(io_, [done = std::move(done)] { done({false, "pool already started", false}); });
    return;
  }
  start_done_ = std::move(done);
  set_state(PoolState::starting);
  if (attached()) {
    // Ready at once: the workers come when they come; until one is ready
    // the pool answers 503 and readiness says why.
    try {
      open_attach_socket();
    } catch (const std::exception& e) {
      finish_start({false, fmt::format("{}: attach: {}", describe(), e.what()), false});
      return;
    }
    finish_start({true, "", false});
    return;
  }
  if (settings_.workers <= 0) {
    finish_start({true, "", false});
    return;
  }
  for (int i = 0; i < settings_.workers && state_ == PoolState::starting; ++i) spawn_worker();
}

void PoolCore::spawn_worker() {
  const std::uint32_t id = ++last_worker_id_;
  auto worker = std::make_shared<Worker>(io_, settings_, *this, launcher_, id);
  worker->recycle.generation = generation_;
  workers_.emplace(id, worker);
  std::string error;
  if (worker->spawn(error)) return;
  workers_.erase(id);
  const std::string message = fmt::format("{}: cannot launch worker {}: {}", describe(), id, error);
  spdlog::error("{}", message);
  if (state_ == PoolState::starting) {
    finish_start({false, message, false});
  } else if (state_ == PoolState::running) {
    ++failed_starts_;
    restart_after(backoff_.next());  // same path as a crash
  }
}

void PoolCore::restart_after(Backoff::Duration delay) {
  ++pending_restarts_;
  auto& timer = timers_->restarts.emplace_back(io_);
  timer.expires_after(std::chrono::duration_cast<Clock::duration>(delay));
  auto it = std::prev(timers_->restarts.end());
  // A handler already queued when the list is cleared still runs with
  // success: the generation tells it that its timer (and `it`) are gone.
  timer.async_wait(
      [weak = weak_from_this(), it, generation = restart_generation_](const boost::system::error_code& ec) {
        if (ec) return;
        auto self = weak.lock();
        if (!self || self->restart_generation_ != generation) return;
        self->timers_->restarts.erase(it);
        --self->pending_restarts_;
        self->reconcile();  // spawns unless the count was met meanwhile (resize, reload)
      });
}

void PoolCore::finish_start(PoolStartResult result) {
  if (!start_done_) return;
  auto done = std::move(start_done_);
  start_done_ = nullptr;
  if (result.ok) {
    set_state(PoolState::running);
    arm_check_timer();
    dispatch_queued();
  } else {
    set_state(PoolState::failed);
    for (std::uint64_t id : queue_.take_all()) fail_scope(id, UpstreamError::pool_failed);
    kill_all(true);
  }
  // Never from inside start() or a worker's call: the callback may well
  // tear the gateway down.
  asio::post(io_, [done = std::move(done), result = std::move(result)] { done(result); });
}

void PoolCore::on_worker_ready(Worker& worker) {
  failed_starts_ = 0;
  const std::uint64_t generation = worker.recycle.generation;
  worker.recycle = recycle_policy_.plan(settings_, Clock::now());
  worker.recycle.generation = generation;
  if (crash_loop_) {
    spdlog::info("{}: worker {} started; crash loop over", describe(), worker.id());
    crash_loop_ = false;
  }
  if (state_ == PoolState::starting) {
    std::size_t ready = 0;
    for (const auto& [id, w] : workers_) ready += w->accepting() ? 1 : 0;
    if (ready >= static_cast<std::size_t>(settings_.workers)) finish_start({true, "", false});
    return;
  }
  if (state_ == PoolState::stopping) {
    worker.stop();
    return;
  }
  // A new worker is serving: one retiring worker may go now.
  drain_one_retiree();
  reconcile();  // a removal (SIGTTOU) that waited for this worker to be ready
  if (reload_ && generation == generation_) advance_reload();
  dispatch_queued();
}

// ---- losses and replacement -------------------------------------------------

void PoolCore::on_worker_lost(Worker& worker, const std::string& message, bool app_failed) {
  release_worker_scopes(worker, UpstreamError::worker_lost);
  switch (state_) {
    case PoolState::starting:
      finish_start({false,
                    app_failed ? fmt::format("{}: lifespan startup failed: {}", describe(), message)
                               : fmt::format("{}: worker {} (pid {}) failed to start: {}", describe(), worker.id(),
                                             worker.pid(), message),
                    app_failed});
      return;
    case PoolState::running:
      if (attached()) {
        // Its own supervisor brings it back; nothing to spawn.
        if (!has_live_worker())
          for (std::uint64_t id : queue_.take_all()) fail_scope(id, UpstreamError::pool_failed);
        return;
      }
      if (reload_ && worker.recycle.generation == generation_ && worker.ready_since() == Clock::time_point{}) {
        fail_reload(fmt::format("worker {} (pid {}) of the new generation failed to start: {}", worker.id(),
                                worker.pid(), message));
      }
      schedule_replacement(worker);
      return;
    default: return;
  }
}

void PoolCore::cancel_restarts() {
  ++restart_generation_;
  timers_->restarts.clear();
  pending_restarts_ = 0;
}

void PoolCore::schedule_replacement(Worker& lost) {
  const bool was_ready = lost.ready_since() != Clock::time_point{};
  if (was_ready && Clock::now() - lost.ready_since() >= settings_.restart_delay_max) {
    backoff_.reset();  // it had been healthy for a while: this is not a loop
  }
  if (!was_ready) ++failed_starts_;
  if (failed_starts_ >= settings_.crash_loop_threshold) {
    crash_loop_ = true;
    spdlog::error("{}: crash loop: {} consecutive workers failed to start; retrying every {:.3g}s", describe(),
                  failed_starts_, settings_.restart_delay_max.count());
  }
  if (crash_loop_) fail_pool_scopes_if_down();
  // A retiring worker, or one beyond the target, needs no successor.
  if (effective_workers() >= static_cast<std::size_t>(target_workers_)) return;
  const Backoff::Duration delay = crash_loop_ ? Backoff::Duration(settings_.restart_delay_max) : backoff_.next();
  spdlog::debug("{}: replacing worker {} in {:.3f}s", describe(), lost.id(), delay.count());
  ++restarts_;
  ++restarts_by_reason_[std::string(lost.loss_kind())];
  restart_after(delay);
}

void PoolCore::on_worker_exited(Worker& worker) {
  // Scopes still held after a stop deadline: nobody will end them now.
  release_worker_scopes(worker, UpstreamError::worker_lost);
  // Never destroy a worker inside its own call: forget it next turn.
  asio::post(io_, [weak = weak_from_this(), id = worker.id()] {
    auto self = weak.lock();
    if (!self) return;
    self->workers_.erase(id);
    self->maybe_finish_stop();
  });
}

// ---- stop -------------------------------------------------------------------

void PoolCore::stop(Clock::time_point in_flight_deadline, std::function<void()> done) {
  if (done) stop_done_.push_back(std::move(done));
  if (state_ == PoolState::stopping) return;
  if (start_done_) finish_start({false, "pool stopped before it was ready", false});
  set_state(PoolState::stopping);
  close_attach_socket();
  cancel_restarts();
  timers_->queue.cancel();
  queue_timer_deadline_.reset();
  for (std::uint64_t id : queue_.take_all()) fail_scope(id, UpstreamError::shutting_down);

  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(in_flight_deadline - Clock::now());
  std::vector<std::shared_ptr<Worker>> snapshot;
  for (const auto& [id, w] : workers_) snapshot.push_back(w);
  for (const auto& w : snapshot) {
    if (w->attached()) w->release_on_stop();
    if (w->life() == WorkerLife::ready && w->in_flight() > 0) {
      w->drain(std::max(left, std::chrono::milliseconds(0)));
    } else {
      w->stop();
    }
  }
  timers_->stop.expires_at(in_flight_deadline);
  timers_->stop.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_stop_deadline();
  });
  maybe_finish_stop();
}

void PoolCore::on_stop_deadline() {
  if (state_ != PoolState::stopping) return;
  std::vector<std::shared_ptr<Worker>> snapshot;
  for (const auto& [id, w] : workers_) snapshot.push_back(w);
  for (const auto& w : snapshot) {
    if (w->life() == WorkerLife::draining) expire_drain(*w);
  }
}

void PoolCore::on_worker_drain_expired(Worker& worker) { expire_drain(worker); }

void PoolCore::expire_drain(Worker& worker) {
  spdlog::warn("{}: worker {} (pid {}) still runs {} scopes at the end of its drain; closing them", describe(),
               worker.id(), worker.pid(), worker.in_flight());
  for (std::uint64_t id : std::vector<std::uint64_t>(worker.scopes().begin(), worker.scopes().end())) {
    ScopeRecord* record = scopes_.find(id);
    if (record != nullptr && !record->finished()) {
      if (record->type != wire::ScopeType::HTTP) {
        // WebSocket/SSE: the transport closes properly and tells the app
        // itself: 1012 (service restart) for a worker replaced by a reload,
        // 1001 otherwise. The worker's reason, not reload_: the reload has
        // usually finished by the time its old workers' drains expire.
        const bool restart = state_ == PoolState::running && worker.recycle.reason == "reload";
        if (auto ds = record->downstream.lock()) ds->on_server_close(restart);
        record = scopes_.find(id);
        if (record == nullptr) continue;
      }
      if (!record->disconnected) append_disconnect(worker, id, *record, DisconnectReason::server_shutdown);
      fail_scope(id, UpstreamError::shutting_down);
    }
  }
  worker.flush();
  worker.stop();
}

void PoolCore::maybe_finish_stop() {
  if (state_ != PoolState::stopping && state_ != PoolState::failed && state_ != PoolState::stopped) return;
  if (!workers_.empty() || stop_done_.empty()) return;
  // Nothing of a stopped pool stays pending: an embedding program's
  // io_context.run() returns once the gateway has stopped.
  timers_->stop.cancel();
  timers_->check.cancel();
  timers_->request.cancel();
  timers_->cancel.cancel();
  timers_->queue.cancel();
  check_timer_armed_ = request_timer_armed_ = cancel_timer_armed_ = false;
  request_deadlines_.clear();
  queue_timer_deadline_.reset();
  if (state_ == PoolState::stopping) set_state(PoolState::stopped);
  auto callbacks = std::move(stop_done_);
  stop_done_.clear();
  asio::post(io_, [callbacks = std::move(callbacks)] {
    for (auto& done : callbacks) done();
  });
}

void PoolCore::kill_all(bool notify) {
  if (state_ != PoolState::failed) set_state(PoolState::stopped);
  close_attach_socket();
  cancel_restarts();
  timers_->queue.cancel();
  queue_timer_deadline_.reset();
  std::vector<std::shared_ptr<Worker>> snapshot;
  for (const auto& [id, w] : workers_) snapshot.push_back(w);
  for (const auto& w : snapshot) {
    if (notify) release_worker_scopes(*w, UpstreamError::worker_lost);
    w->kill();
  }
  if (!notify) return;
  for (std::uint64_t id : queue_.take_all()) fail_scope(id, UpstreamError::shutting_down);
  if (start_done_) finish_start({false, "pool killed before it was ready", false});
}

PoolStats PoolCore::stats() const {
  PoolStats s;
  for (const auto& [id, w] : workers_) {
    s.workers_ready += w->accepting() ? 1 : 0;
    s.workers_alive += 1;
    s.in_flight += w->in_flight();
    s.streams += w->streams();
  }
  s.queued = queue_.size();
  s.restarts = restarts_;
  s.crash_loop = crash_loop_;
  s.failed = state_ == PoolState::failed || (crash_loop_ && s.workers_ready == 0);
  s.workers_target = static_cast<std::size_t>(target_workers_);
  s.recycled = recycled_;
  s.generation = generation_;
  s.restarts_by_reason = restarts_by_reason_;
  s.recycles_by_reason = recycles_by_reason_;
  s.heartbeat_misses = heartbeat_misses_;
  s.queue_overflows = queue_overflows_;
  s.queue_timeouts = queue_timeouts_;
  s.queue_wait = queue_wait_;
  s.request_deadlines = request_deadlines_.size();
  s.body_bytes_ring = body_bytes_ring_;
  s.body_bytes_socket = body_bytes_socket_;
  return s;
}

// ---- where scopes go ----------------------------------------------------------

SlotKind slot_kind(const ScopeRequest& request) {
  if (request.type == wire::ScopeType::WEBSOCKET || request.type == wire::ScopeType::SSE) return SlotKind::stream;
  if (request.type != wire::ScopeType::HTTP) return SlotKind::request;
  if (accepts_event_stream(request.headers)) return SlotKind::stream;
  return SlotKind::request;
}

Worker* PoolCore::pick_worker(SlotKind kind) {
  if (state_ != PoolState::running) return nullptr;
  loads_.clear();
  std::size_t streams = 0;
  for (const auto& [id, w] : workers_) {
    loads_.push_back(
        {id, w->accepting(), w->requests_in_flight(), w->concurrency(), w->streams(), w->stream_concurrency()});
    streams += w->streams();
  }
  if (loads_.empty()) return nullptr;
  // The pool-wide bound on open streams (memory), on top of the workers' own.
  if (kind == SlotKind::stream && settings_.max_streams > 0 &&
      streams >= static_cast<std::size_t>(settings_.max_streams)) {
    return nullptr;
  }
  // Rotate the start so ties spread over workers instead of piling on the first.
  const std::size_t shift = rotate_++ % loads_.size();
  std::rotate(loads_.begin(), loads_.begin() + static_cast<std::ptrdiff_t>(shift), loads_.end());
  const auto chosen = pick_least_loaded(loads_, kind);
  return chosen ? find_worker(*chosen) : nullptr;
}

void PoolCore::dispatch_queued() {
  // The lane with the older front first: where both kinds share a slot
  // (concurrency 1) the wait stays first come, first served.
  const auto req = queue_.oldest(SlotKind::request), str = queue_.oldest(SlotKind::stream);
  const bool stream_first = str && (!req || *str < *req);
  dispatch_queued(stream_first ? SlotKind::stream : SlotKind::request);
  dispatch_queued(stream_first ? SlotKind::request : SlotKind::stream);
  if (queue_.empty()) {
    timers_->queue.cancel();
    queue_timer_deadline_.reset();
  }
}

// One lane of the queue: a lane whose slots are all taken does not hold up
// the other (a full set of streams never delays a plain request).
void PoolCore::dispatch_queued(SlotKind kind) {
  while (!queue_.empty(kind)) {
    Worker* worker = pick_worker(kind);
    if (worker == nullptr) break;
    Clock::time_point since;
    const auto id = queue_.pop(kind, &since);
    ScopeRecord* record = scopes_.find(*id);
    if (record == nullptr || record->finished()) continue;
    queue_wait_.observe(std::chrono::duration<double>(Clock::now() - since).count());
    dispatch(*id, *record, *worker, nullptr, kind);
    // Now that the app can take body bytes, tell the transport.
    if (record->request_body_open && !record->expect_continue && record->flow.request_window() > 0) {
      if (auto ds = record->downstream.lock()) ds->on_request_credit();
    }
  }
}

void PoolCore::arm_queue_timer() {
  const auto deadline = queue_.next_deadline();
  if (!deadline || (queue_timer_deadline_ && *queue_timer_deadline_ <= *deadline)) return;
  queue_timer_deadline_ = deadline;
  timers_->queue.expires_at(*deadline);
  timers_->queue.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_queue_timer();
  });
}

void PoolCore::on_queue_timer() {
  queue_timer_deadline_.reset();
  for (std::uint64_t id : queue_.take_expired(Clock::now())) {
    spdlog::warn("{}: scope {} waited {:.3g}s for a worker", describe(), id, settings_.queue_timeout.count());
    ++queue_timeouts_;
    fail_scope(id, UpstreamError::queue_timeout);
  }
  arm_queue_timer();
}

}  // namespace pagi::workers
