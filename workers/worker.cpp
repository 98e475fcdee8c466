#include "workers/worker.hpp"

#include <csignal>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "protocol/event_validation.hpp"
#include "workers/body_ring.hpp"
#include "workers/log_context.hpp"
#include "workers/worker_messages.hpp"
#include "workers/worker_timers.hpp"

namespace pagi::workers {

namespace asio = boost::asio;

std::string_view to_string(WorkerLife life) noexcept {
  switch (life) {
    case WorkerLife::spawning: return "spawning";
    case WorkerLife::handshaking: return "handshaking";
    case WorkerLife::starting: return "starting";
    case WorkerLife::ready: return "ready";
    case WorkerLife::draining: return "draining";
    case WorkerLife::stopping: return "stopping";
    case WorkerLife::dead: return "dead";
  }
  return "?";
}

bool legal_transition(WorkerLife from, WorkerLife to) noexcept {
  using L = WorkerLife;
  if (to == L::dead) return from != L::dead;
  switch (from) {
    case L::spawning: return to == L::handshaking || to == L::stopping;
    case L::handshaking: return to == L::starting || to == L::ready || to == L::stopping;
    case L::starting: return to == L::ready || to == L::stopping;
    case L::ready: return to == L::draining || to == L::stopping;
    case L::draining: return to == L::stopping;
    case L::stopping:
    case L::dead: return false;
  }
  return false;
}

Worker::Worker(asio::io_context& io, const PoolSettings& settings, WorkerEvents& events,
               std::shared_ptr<WorkerLauncher> launcher, std::uint32_t id)
    : io_(io),
      settings_(settings),
      events_(events),
      launcher_(std::move(launcher)),
      id_(id),
      timers_(std::make_unique<Timers>(io)) {}

Worker::~Worker() {
  if (connection_) connection_->close();
}

std::string Worker::describe() const {
  return fmt::format("pool={} worker={} pid={}{}", settings_.name, id_, pid_, attached_ ? " (attached)" : "");
}

void Worker::set_state(WorkerLife next) {
  if (!legal_transition(life_, next)) {
    spdlog::error("{}: illegal state change {} -> {} ignored", describe(), to_string(life_), to_string(next));
    return;
  }
  spdlog::debug("{}: {} -> {}", describe(), to_string(life_), to_string(next));
  life_ = next;
}

bool Worker::spawn(std::string& error) {
  spawned_at_ = Clock::now();
  std::weak_ptr<Worker> weak = weak_from_this();
  const LaunchedWorker launched = launcher_->launch(
      settings_,
      [weak](int status) {
        if (auto self = weak.lock()) self->on_exit(status);
      },
      error);
  if (launched.pid < 0) {
    set_state(WorkerLife::dead);
    return false;
  }
  pid_ = launched.pid;
  if (launched.body_ring) use_body_ring(launched.body_ring);
  protocol::FrameLimits limits;
  limits.max_message_bytes = settings_.max_message_bytes;
  connection_ = WorkerConnection::create(io_, launched.socket_fd, limits, this);
  connection_->start();
  set_state(WorkerLife::handshaking);
  arm_step_timer(settings_.startup_timeout);
  return true;
}

void Worker::attach(int fd, int peer_pid) {
  spawned_at_ = Clock::now();
  attached_ = true;
  pid_ = peer_pid > 0 ? peer_pid : -1;
  protocol::FrameLimits limits;
  limits.max_message_bytes = settings_.max_message_bytes;
  connection_ = WorkerConnection::create(io_, fd, limits, this);
  connection_->start();
  set_state(WorkerLife::handshaking);
  arm_step_timer(settings_.startup_timeout);
}

void Worker::signal_process(int signal) {
  if (attached_) {
    end_attached();
    return;
  }
  launcher_->signal(pid_, signal);
}

// An attached worker is gone when its connection is: close it and report the
// "exit" from the next loop turn, like a reaped process.
void Worker::end_attached() {
  if (attached_ended_) return;
  attached_ended_ = true;
  if (connection_) connection_->close();
  asio::post(io_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_exit(0);
  });
}

std::string& Worker::output() { return connection_->output(); }
void Worker::flush() { connection_->flush(); }

void Worker::add_scope(std::uint64_t scope, SlotKind kind) {
  scopes_.insert(scope);
  if (kind == SlotKind::stream) stream_scopes_.insert(scope);
  ++scopes_opened_;
  if (scope > last_opened_) last_opened_ = scope;
}

void Worker::on_frame(const protocol::Frame& frame) {
  const wire::Envelope::Reader message = frame.root();
  switch (message.which()) {
    case wire::Envelope::HELLO: on_hello(message.getHello()); return;
    case wire::Envelope::HEARTBEAT: {
      const std::uint64_t seq = message.getHeartbeat().getSeq();
      if (seq > heartbeat_acked_ && seq <= heartbeat_sent_) heartbeat_acked_ = seq;
      return;
    }
    default: break;
  }
  if (life_ == WorkerLife::handshaking) {
    fail("message before hello");
    return;
  }
  if (lifespan_scope_ != 0 && message.getScope() == lifespan_scope_) {
    on_lifespan_message(message);
    return;
  }
  events_.on_worker_scope_message(*this, frame);
}

void Worker::on_hello(wire::Hello::Reader hello) {
  if (life_ != WorkerLife::handshaking) {
    fail("second hello");
    return;
  }
  if (hello.getProtocolVersion() != wire::PROTOCOL_VERSION) {
    fail(fmt::format("protocol version {} (gateway speaks {})", hello.getProtocolVersion(), wire::PROTOCOL_VERSION));
    return;
  }
  if (attached_) {
    const std::string_view pool(hello.getPool().cStr());
    if (pool != settings_.name) {
      fail(fmt::format("hello names pool '{}' but this socket serves pool '{}'", pool, settings_.name));
      return;
    }
    if (pid_ <= 0 && hello.getPid() > 0) pid_ = static_cast<int>(hello.getPid());
  }
  if (settings_.concurrency > 0) {
    concurrency_ = static_cast<std::size_t>(settings_.concurrency);
  } else {
    concurrency_ = hello.getConcurrency() > 0 ? hello.getConcurrency() : 1;
  }
  stream_concurrency_ = effective_stream_concurrency(settings_);
  scope_types_ = hello.getScopeTypes();
  skip_response_done_ = hello.getSkipResponseDone();
  spdlog::debug("{}: hello from {} {} (pid {}, concurrency {})", describe(),
                std::string_view(hello.getSdkName().cStr()), std::string_view(hello.getSdkVersion().cStr()),
                hello.getPid(), concurrency_);
  std::string& out = connection_->output();
  messages::append_welcome(out, settings_, id_, body_ring_bytes());
  if (settings_.lifespan == wire::LifespanMode::OFF) {
    connection_->flush();
    become_ready();
    return;
  }
  lifespan_scope_ = events_.allocate_scope_id();
  last_opened_ = lifespan_scope_;
  messages::append_lifespan_open(out, lifespan_scope_);
  messages::append_lifespan_startup(out, lifespan_scope_);
  connection_->flush();
  set_state(WorkerLife::starting);
}

void Worker::on_lifespan_message(wire::Envelope::Reader message) {
  const bool starting = life_ == WorkerLife::starting;
  const bool shutting_down = stop_step_ == StopStep::lifespan_shutdown;
  switch (message.which()) {
    case wire::Envelope::LIFESPAN_STARTUP_COMPLETE:
      if (!starting) break;
      lifespan_started_ = true;
      become_ready();
      return;
    case wire::Envelope::LIFESPAN_STARTUP_FAILED:
      if (!starting) break;
      loss_kind_ = "startup_failed";
      lose(std::string(message.getLifespanStartupFailed().cStr()), true, SIGTERM);
      return;
    case wire::Envelope::LIFESPAN_UNSUPPORTED:
      if (!starting) break;
      if (settings_.lifespan == wire::LifespanMode::ON) {
        loss_kind_ = "startup_failed";
        lose("lifespan is required (lifespan: on) but the app does not support it: " +
                 std::string(message.getLifespanUnsupported().cStr()),
             true, SIGTERM);
        return;
      }
      spdlog::debug("{}: app has no lifespan: {}", describe(),
                    std::string_view(message.getLifespanUnsupported().cStr()));
      become_ready();
      return;
    case wire::Envelope::LIFESPAN_SHUTDOWN_COMPLETE:
      if (!shutting_down) break;
      send_shutdown();
      return;
    case wire::Envelope::LIFESPAN_SHUTDOWN_FAILED:
      if (!shutting_down) break;
      spdlog::error("{}: lifespan.shutdown.failed: {}", describe(),
                    std::string_view(message.getLifespanShutdownFailed().cStr()));
      send_shutdown();
      return;
    case wire::Envelope::SCOPE_END:
      // The app's lifespan coroutine returned; its answers came before.
      if (message.getScopeEnd().getFailed()) {
        spdlog::warn("{}: lifespan scope failed: {}", describe(),
                     std::string_view(message.getScopeEnd().getMessage().cStr()));
      }
      return;
    default: break;
  }
  fail(fmt::format("unexpected lifespan event {} while {}", static_cast<int>(message.which()), to_string(life_)));
}

void Worker::become_ready() {
  set_state(WorkerLife::ready);
  ready_since_ = Clock::now();
  cancel_step_timer();
  spdlog::debug("{}: ready after {:.3f}s", describe(),
                std::chrono::duration<double>(ready_since_ - spawned_at_).count());
  arm_heartbeat();
  events_.on_worker_ready(*this);
}

void Worker::on_connection_closed(std::string_view what, std::error_code ec) {
  if (stop_step_ != StopStep::none) {
    // Expected during a graceful stop: the worker exits after `shutdown`.
    spdlog::debug("{}: connection closed while stopping ({})", describe(), what);
    if (attached_) end_attached();
    return;
  }
  const std::string detail = ec ? fmt::format("{}: {}", what, ec.message()) : std::string(what);
  // A socket EOF usually means the process is on its way out: let it go
  // politely. Bad frames cost the process at once.
  const bool bad_frame =
      ec && (ec.category() == protocol::frame_category() || ec.category() == protocol::event_category());
  const bool polite = !bad_frame;
  if (bad_frame) loss_kind_ = "protocol_error";
  lose(fmt::format("{} while {}", detail, to_string(life_)), false, polite ? SIGTERM : SIGKILL);
}

void Worker::fail(const std::string& message) {
  loss_kind_ = "protocol_error";
  lose(fmt::format("protocol error while {}: {}", to_string(life_), message), false, SIGKILL);
}

void Worker::lose(const std::string& message, bool app_failed, int signal) {
  if (lost_ || life_ == WorkerLife::dead) return;
  lost_ = true;
  {
    const LogContext context{settings_.name, pid_};  // JSON error log fields
    const ScopedLogContext scoped(context);
    spdlog::error("{}: {}", describe(), message);
  }
  if (connection_) connection_->close();
  timers_->heartbeat.cancel();
  if (life_ != WorkerLife::stopping) set_state(WorkerLife::stopping);
  if (signal != 0) signal_process(signal);
  if (signal == SIGKILL || signal == 0) {
    stop_step_ = StopStep::killed;
    cancel_step_timer();
  } else {
    stop_step_ = StopStep::terminated;
    arm_step_timer(settings_.stop_grace);
  }
  events_.on_worker_lost(*this, message, app_failed);
}

void Worker::kill() {
  if (life_ == WorkerLife::dead) return;
  lost_ = true;  // no loss report: whoever kills knows
  if (connection_) connection_->close();
  timers_->heartbeat.cancel();
  cancel_step_timer();
  if (life_ != WorkerLife::stopping) set_state(WorkerLife::stopping);
  stop_step_ = StopStep::killed;
  signal_process(SIGKILL);
}

void Worker::drain(std::chrono::milliseconds timeout) {
  if (life_ != WorkerLife::ready) return;
  set_state(WorkerLife::draining);
  messages::append_drain(connection_->output(), static_cast<std::uint32_t>(timeout.count()));
  connection_->flush();
  arm_step_timer(std::chrono::duration_cast<Seconds>(timeout));
}

void Worker::stop() {
  if (lost_ || life_ == WorkerLife::dead || stop_step_ != StopStep::none) return;
  cancel_step_timer();  // a drain timeout
  set_state(WorkerLife::stopping);
  timers_->heartbeat.cancel();
  const bool connected = connection_ && connection_->is_open();
  if (connected && lifespan_started_) {
    stop_step_ = StopStep::lifespan_shutdown;
    messages::append_lifespan_shutdown(connection_->output(), lifespan_scope_);
    connection_->flush();
    arm_step_timer(settings_.shutdown_timeout);
  } else if (connected) {
    send_shutdown();
  } else {
    stop_step_ = StopStep::terminated;
    signal_process(SIGTERM);
    arm_step_timer(settings_.stop_grace);
  }
}

void Worker::send_shutdown() {
  stop_step_ = StopStep::awaiting_exit;
  if (attached_ && release_) {
    end_attached();
    return;
  }
  if (connection_ && connection_->is_open()) {
    messages::append_shutdown(connection_->output());
    connection_->flush();
  }
  arm_step_timer(settings_.stop_grace);
}

void Worker::on_exit(int wait_status) {
  exit_status_ = wait_status;
  cancel_step_timer();
  timers_->heartbeat.cancel();
  if (!lost_ && stop_step_ == StopStep::none) {
    std::string how = WIFSIGNALED(wait_status) ? fmt::format("killed by signal {}", WTERMSIG(wait_status))
                                               : fmt::format("exited with status {}", WEXITSTATUS(wait_status));
    lose(fmt::format("worker {} while {}", how, to_string(life_)), false, 0);
    cancel_step_timer();
  }
  if (connection_) connection_->close();
  spdlog::debug("{}: reaped (status {})", describe(), wait_status);
  set_state(WorkerLife::dead);
  events_.on_worker_exited(*this);
}

void Worker::arm_step_timer(Seconds after) {
  timers_->step.expires_after(std::chrono::duration_cast<Clock::duration>(after));
  std::weak_ptr<Worker> weak = weak_from_this();
  // A handler that had already expired when the timer was re-armed or
  // cancelled still runs with success; the generation makes it a no-op.
  timers_->step.async_wait([weak, generation = ++step_generation_](const boost::system::error_code& ec) {
    if (ec) return;
    auto self = weak.lock();
    if (self && self->step_generation_ == generation) self->on_step_timeout();
  });
}

void Worker::cancel_step_timer() {
  ++step_generation_;
  timers_->step.cancel();
}

void Worker::on_step_timeout() {
  if (life_ == WorkerLife::handshaking || life_ == WorkerLife::starting) {
    loss_kind_ = "startup_timeout";
    lose(fmt::format("startup timed out after {:.3g}s waiting for {}", settings_.startup_timeout.count(),
                     life_ == WorkerLife::handshaking ? "hello" : "lifespan startup"),
         false, SIGKILL);
    return;
  }
  if (life_ == WorkerLife::draining) {
    events_.on_worker_drain_expired(*this);
    return;
  }
  if (life_ != WorkerLife::stopping) return;
  switch (stop_step_) {
    case StopStep::lifespan_shutdown:
      spdlog::warn("{}: lifespan shutdown timed out after {:.3g}s", describe(), settings_.shutdown_timeout.count());
      send_shutdown();
      return;
    case StopStep::awaiting_exit:
      spdlog::warn("{}: did not exit after shutdown; SIGTERM", describe());
      stop_step_ = StopStep::terminated;
      signal_process(SIGTERM);
      arm_step_timer(settings_.stop_grace);
      return;
    case StopStep::terminated:
      spdlog::warn("{}: did not exit after SIGTERM; SIGKILL", describe());
      stop_step_ = StopStep::killed;
      signal_process(SIGKILL);
      return;
    case StopStep::none:
    case StopStep::killed: return;
  }
}

void Worker::arm_heartbeat() {
  if (settings_.heartbeat_interval <= Seconds::zero()) return;
  timers_->heartbeat.expires_after(std::chrono::duration_cast<Clock::duration>(settings_.heartbeat_interval));
  std::weak_ptr<Worker> weak = weak_from_this();
  timers_->heartbeat.async_wait([weak](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_heartbeat_tick();
  });
}

void Worker::on_heartbeat_tick() {
  if (life_ != WorkerLife::ready && life_ != WorkerLife::draining) return;
  if (heartbeat_sent_ > heartbeat_acked_) events_.on_heartbeat_missed(*this);
  if (settings_.heartbeat_misses > 0 &&
      heartbeat_sent_ - heartbeat_acked_ >= static_cast<std::uint64_t>(settings_.heartbeat_misses)) {
    std::string held;
    for (std::uint64_t scope : scopes_) held += (held.empty() ? "" : ",") + std::to_string(scope);
    loss_kind_ = "heartbeat";
    lose(fmt::format("missed {} heartbeats over {:.3g}s (event loop blocked?); killing it; it held {} "
                     "scope(s){}{}",
                     heartbeat_sent_ - heartbeat_acked_,
                     settings_.heartbeat_interval.count() * settings_.heartbeat_misses, scopes_.size(),
                     held.empty() ? "" : ": ", held),
         false, SIGKILL);
    return;
  }
  messages::append_heartbeat(connection_->output(), ++heartbeat_sent_);
  connection_->flush();
  arm_heartbeat();
}

}  // namespace pagi::workers
