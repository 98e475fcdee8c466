// Supervision beyond crash restarts: recycling (max_requests, max_lifetime,
// max_rss), request timeouts with a cancel grace, rolling reload and resize.
//
// One rule keeps capacity up: the pool wants `target_workers_` workers that
// are neither retiring nor on their way out ("effective" workers, restarts
// pending included). Retiring a worker therefore spawns its replacement at
// once, while the retiree keeps serving; only when a new worker is ready is
// one retiree drained (no new scopes; in-flight ones get drain_timeout),
// then stopped (lifespan shutdown, shutdown, SIGTERM, SIGKILL).
#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "workers/pool_core.hpp"
#include "workers/pool_timers.hpp"
#include "workers/worker_messages.hpp"

namespace pagi::workers {

namespace asio = boost::asio;

namespace {

bool on_its_way_out(const Worker& w) {
  return w.life() == WorkerLife::draining || w.life() == WorkerLife::stopping || w.life() == WorkerLife::dead;
}

std::chrono::milliseconds to_ms(Seconds s) { return std::chrono::duration_cast<std::chrono::milliseconds>(s); }

}  // namespace

std::size_t PoolCore::effective_workers() const {
  std::size_t n = pending_restarts_;
  for (const auto& [id, w] : workers_) n += (!on_its_way_out(*w) && !w->recycle.retiring) ? 1 : 0;
  return n;
}

bool PoolCore::has_accepting_worker() const {
  return std::any_of(workers_.begin(), workers_.end(), [](const auto& e) { return e.second->accepting(); });
}

void PoolCore::reconcile() {
  if (state_ != PoolState::running || attached()) return;
  std::size_t effective = effective_workers();
  const auto target = static_cast<std::size_t>(target_workers_);
  while (effective < target && state_ == PoolState::running) {
    spawn_worker();
    ++effective;
  }
  // Too many (SIGTTOU, a reload with fewer workers): drain the least busy.
  while (effective > target) {
    Worker* victim = nullptr;
    for (const auto& [id, w] : workers_) {
      if (on_its_way_out(*w) || w->recycle.retiring || !w->accepting()) continue;
      if (victim == nullptr || w->in_flight() < victim->in_flight()) victim = w.get();
    }
    if (victim == nullptr) break;
    spdlog::info("{}: worker {} (pid {}) removed: {} workers wanted", describe(), victim->id(), victim->pid(), target);
    retire_now(*victim);
    --effective;
  }
}

void PoolCore::begin_recycle(Worker& worker, const std::string& reason) {
  if (state_ != PoolState::running || worker.recycle.retiring || !worker.accepting()) return;
  worker.recycle.retiring = true;
  worker.recycle.reason = reason;
  ++recycled_;
  count_recycle(RecyclePolicy::kind_of(reason));
  if (attached()) {
    // No replacement to start first: its own supervisor starts one after it exits.
    spdlog::info("{}: recycling attached worker {} (pid {}): {}; asking it to exit after draining", describe(),
                 worker.id(), worker.pid(), reason);
    retire_now(worker);
    return;
  }
  spdlog::info("{}: recycling worker {} (pid {}): {}; starting its replacement first", describe(), worker.id(),
               worker.pid(), reason);
  reconcile();
}

void PoolCore::retire_now(Worker& worker) {
  if (!worker.accepting()) return;
  worker.drain(to_ms(settings_.drain_timeout));
  if (worker.in_flight() == 0) worker.stop();
}

void PoolCore::drain_one_retiree() {
  Worker* oldest = nullptr;
  for (const auto& [id, w] : workers_) {
    if (w->recycle.retiring && w->accepting()) {
      oldest = w.get();
      break;  // map order is id order: oldest first
    }
  }
  if (oldest == nullptr) return;
  spdlog::info("{}: draining worker {} (pid {}, {} scopes in flight): {}", describe(), oldest->id(), oldest->pid(),
               oldest->in_flight(), oldest->recycle.reason);
  retire_now(*oldest);
}

void PoolCore::fail_pool_scopes_if_down() {
  if (has_accepting_worker()) return;
  for (std::uint64_t id : queue_.take_all()) fail_scope(id, UpstreamError::pool_failed);
}

// ---- resize -------------------------------------------------------------------

int PoolCore::resize(int delta) {
  if (attached()) {
    spdlog::info("{}: attach pool: the worker count is decided by whoever starts the workers", describe());
    return target_workers_;
  }
  target_workers_ = std::max(1, target_workers_ + delta);
  spdlog::info("{}: {} workers wanted", describe(), target_workers_);
  reconcile();
  return target_workers_;
}

// ---- lifetime and memory ----------------------------------------------------------

void PoolCore::arm_check_timer() {
  if (check_timer_armed_ || state_ != PoolState::running) return;
  if (settings_.max_lifetime <= Seconds::zero() && settings_.max_rss == 0) return;
  if (settings_.check_interval <= Seconds::zero()) return;
  check_timer_armed_ = true;
  timers_->check.expires_after(std::chrono::duration_cast<Clock::duration>(settings_.check_interval));
  timers_->check.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_check_timer();
  });
}

void PoolCore::on_check_timer() {
  check_timer_armed_ = false;
  if (state_ != PoolState::running) return;
  const auto now = Clock::now();
  std::vector<std::shared_ptr<Worker>> snapshot;
  for (const auto& [id, w] : workers_) snapshot.push_back(w);
  for (const auto& w : snapshot) {
    if (!w->accepting() || w->recycle.retiring) continue;
    std::optional<std::uint64_t> rss;
    if (settings_.max_rss > 0 && !w->attached()) rss = launcher_->resident_bytes(w->pid());
    if (auto reason = RecyclePolicy::on_check(w->recycle, settings_, now, rss)) begin_recycle(*w, *reason);
  }
  arm_check_timer();
}

// ---- request timeout ---------------------------------------------------------------

void PoolCore::track_request_deadline(std::uint64_t id) {
  if (settings_.request_timeout <= Seconds::zero()) return;
  // The entry of a scope that answered stays until its deadline passes:
  // request rate x request_timeout entries under load (1.2 million, ~29 MiB,
  // at 20k req/s and the default 60 s). Whenever the queue reaches twice the
  // live scopes, those are dropped: at most one entry per live scope stays,
  // so a prune comes at most every (live scopes) pushes, O(1) amortised.
  if (request_deadlines_.size() >= std::max<std::size_t>(kMinDeadlinesToPrune, 2 * scopes_.size()))
    prune_request_deadlines();
  request_deadlines_.push_back(
      {Clock::now() + std::chrono::duration_cast<Clock::duration>(settings_.request_timeout), id, 0});
  arm_request_timer();
}

void PoolCore::arm_request_timer() {
  // Deadlines are pushed in time order (one timeout per pool): the front is
  // always the next to expire.
  if (request_timer_armed_ || request_deadlines_.empty()) return;
  request_timer_armed_ = true;
  timers_->request.expires_at(request_deadlines_.front().at);
  timers_->request.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_request_timer();
  });
}

void PoolCore::on_request_timer() {
  request_timer_armed_ = false;
  const auto now = Clock::now();
  while (!request_deadlines_.empty() && request_deadlines_.front().at <= now) {
    const std::uint64_t id = request_deadlines_.front().scope;
    request_deadlines_.pop_front();
    on_request_timeout(id);
  }
  arm_request_timer();
}

bool PoolCore::awaits_response(std::uint64_t id) {
  const ScopeRecord* record = scopes_.find(id);
  return record != nullptr && !record->finished() && !record->worker_done && !record->flow.started();
}

void PoolCore::prune_request_deadlines() {
  std::deque<RequestDeadline> kept;
  for (const RequestDeadline& d : request_deadlines_)
    if (awaits_response(d.scope)) kept.push_back(d);
  request_deadlines_.swap(kept);  // the old blocks go back to the allocator
}

void PoolCore::on_request_timeout(std::uint64_t id) {
  if (!awaits_response(id)) return;
  ScopeRecord* record = scopes_.find(id);
  if (record->worker_id == 0) {  // still queued: the app never saw it
    queue_.remove(id);
    record->worker_done = true;
    spdlog::warn("{}: scope {} waited {:.3g}s in the queue (request_timeout)", describe(), id,
                 settings_.request_timeout.count());
    fail_scope(id, UpstreamError::request_timeout);
    return;
  }
  Worker* worker = find_worker(record->worker_id);
  if (worker == nullptr || !worker->holds_scope(id)) return;
  spdlog::warn(
      "{}: scope {} on worker {} (pid {}) started no response in {:.3g}s (request_timeout): 504; the "
      "app is told and gets {:.3g}s to end it",
      describe(), id, worker->id(), worker->pid(), settings_.request_timeout.count(), settings_.cancel_grace.count());
  messages::append_http_disconnect(worker->output(), id, DisconnectReason::server_error);
  worker->flush();
  cancel_watch_.push_back(
      {Clock::now() + std::chrono::duration_cast<Clock::duration>(settings_.cancel_grace), id, worker->id()});
  arm_cancel_timer();
  fail_scope(id, UpstreamError::request_timeout);  // last: the transport may re-enter
}

void PoolCore::arm_cancel_timer() {
  if (cancel_timer_armed_ || cancel_watch_.empty()) return;
  cancel_timer_armed_ = true;
  timers_->cancel.expires_at(cancel_watch_.front().at);
  timers_->cancel.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_cancel_timer();
  });
}

void PoolCore::on_cancel_timer() {
  cancel_timer_armed_ = false;
  const auto now = Clock::now();
  while (!cancel_watch_.empty() && cancel_watch_.front().at <= now) {
    const RequestDeadline watch = cancel_watch_.front();
    cancel_watch_.pop_front();
    Worker* worker = find_worker(watch.worker);
    if (worker == nullptr || !worker->holds_scope(watch.scope)) continue;
    spdlog::error(
        "{}: worker {} (pid {}) is stuck: scope {} still runs {:.3g}s after its request timeout; "
        "replacing the worker",
        describe(), worker->id(), worker->pid(), watch.scope, settings_.cancel_grace.count());
    if (worker->accepting()) {
      begin_recycle(*worker, fmt::format("stuck on scope {} after its request timeout", watch.scope));
    }
  }
  arm_cancel_timer();
}

// ---- reload ------------------------------------------------------------------------

void PoolCore::reload(PoolSettings settings, std::function<void(const PoolReloadResult&)> done) {
  if (state_ != PoolState::running) {
    asio::post(io_, [done = std::move(done), state = state_] {
      done({false, fmt::format("the pool is {}, not running", to_string(state))});
    });
    return;
  }
  if (reload_) fail_reload("superseded by a newer reload");
  settings.name = settings_.name;
  if (attached()) {
    // Attached workers run code the gateway did not start: new settings
    // apply to workers that connect from now on (restart the workers through
    // their own supervisor to load new code).
    if (settings.attach != settings_.attach) {
      spdlog::warn("{}: reload: attach changed ({} -> {}): needs a restart; keeping {}", describe(), settings_.attach,
                   settings.attach, settings_.attach);
      settings.attach = settings_.attach;
    }
    settings_ = std::move(settings);
    ++generation_;
    apply_queue_settings();
    if (settings_.concurrency > 0) {
      for (const auto& [id, w] : workers_) w->set_concurrency(static_cast<std::size_t>(settings_.concurrency));
    }
    for (const auto& [id, w] : workers_) w->set_stream_concurrency(effective_stream_concurrency(settings_));
    dispatch_queued();
    spdlog::info("{}: reload: new settings apply to workers that attach from now on (generation {})", describe(),
                 generation_);
    asio::post(io_, [done = std::move(done)] { done({true, ""}); });
    return;
  }
  if (!settings.attach.empty()) {
    spdlog::warn("{}: reload: attach added: needs a restart; the pool keeps spawning its workers", describe());
    settings.attach.clear();
  }
  Reload reload;
  reload.previous = settings_;
  reload.previous_target = target_workers_;
  reload.done = std::move(done);
  for (const auto& [id, w] : workers_) {
    if (!on_its_way_out(*w)) reload.pending.push_back(id);
  }
  settings_ = std::move(settings);
  target_workers_ = settings_.workers;
  ++generation_;
  apply_queue_settings();
  reload_ = std::move(reload);
  spdlog::info("{}: reload: replacing {} workers one at a time (generation {})", describe(), reload_->pending.size(),
               generation_);
  advance_reload();
}

void PoolCore::advance_reload() {
  if (!reload_) return;
  // One at a time: wait while an old worker's replacement is still starting.
  for (const auto& [id, w] : workers_) {
    if (w->recycle.retiring && w->accepting() && w->recycle.generation < generation_) return;
  }
  auto& pending = reload_->pending;
  while (!pending.empty()) {
    Worker* old = find_worker(pending.front());
    pending.erase(pending.begin());
    if (old == nullptr || on_its_way_out(*old) || old->recycle.generation >= generation_) continue;
    if (!old->accepting()) {
      // Still starting with the old settings: replace it outright.
      old->recycle.retiring = true;
      old->recycle.reason = "reload";
      count_recycle("reload");
      old->kill();
      reconcile();
      continue;
    }
    old->recycle.retiring = true;
    old->recycle.reason = "reload";
    count_recycle("reload");
    spdlog::info("{}: reload: replacing worker {} (pid {})", describe(), old->id(), old->pid());
    reconcile();
    return;
  }
  finish_reload();
}

// queue_size and queue_timeout take effect at once; the workers' own
// settings (concurrency among them) come with the replacements.
void PoolCore::apply_queue_settings() {
  queue_.reconfigure(settings_.queue_size, std::chrono::duration_cast<Clock::duration>(settings_.queue_timeout));
  backoff_ = Backoff(settings_.restart_delay, settings_.restart_delay_max);
  arm_queue_timer();
}

void PoolCore::finish_reload() {
  auto done = std::move(reload_->done);
  reload_.reset();
  reconcile();
  arm_check_timer();
  spdlog::info("{}: reload complete (generation {})", describe(), generation_);
  if (done) asio::post(io_, [done = std::move(done)] { done({true, ""}); });
}

void PoolCore::fail_reload(const std::string& message) {
  if (!reload_) return;
  spdlog::error("{}: reload failed, the old workers keep serving: {}", describe(), message);
  settings_ = std::move(reload_->previous);
  target_workers_ = reload_->previous_target;
  apply_queue_settings();
  auto done = std::move(reload_->done);
  reload_.reset();
  // Old workers waiting for a successor stay; the failed generation's
  // workers that did start keep serving too.
  for (const auto& [id, w] : workers_) {
    if (w->recycle.retiring && w->recycle.reason == "reload") w->recycle.retiring = false;
  }
  if (done) asio::post(io_, [done = std::move(done), message] { done({false, message}); });
}

}  // namespace pagi::workers
