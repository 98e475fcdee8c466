#include "gateway/ops_runtime.hpp"

#include <csignal>
#include <optional>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "gateway/edge/maintenance_control.hpp"
#include "gateway/gateway.hpp"
#include "gateway/observability/access_log.hpp"
#include "gateway/observability/metrics.hpp"
#include "gateway/observability/text_escape.hpp"
#include "gateway/systemd/listen_fds.hpp"
#include "gateway/systemd/process_identity.hpp"
#include "gateway/systemd/sd_notify.hpp"
#include "workers/pool.hpp"

namespace pagi::gateway {

namespace {

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

admin::AdminResponse reply(std::uint16_t status, std::string body) {
  admin::AdminResponse r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

}  // namespace

struct OpsRuntime::Impl {
  Impl(boost::asio::io_context& io_, const GatewayConfig& config_, Gateway& gateway_)
      : io(io_),
        config(config_),
        gateway(gateway_),
        usr1(io_, SIGUSR1),
        notifier(config_.process.systemd_notify ? systemd::Notifier::from_environment() : systemd::Notifier()),
        watchdog(io_, notifier),
        started_at(std::chrono::steady_clock::now()) {}

  boost::asio::io_context& io;
  GatewayConfig config;
  Gateway& gateway;
  boost::asio::signal_set usr1;
  std::unique_ptr<observability::AccessLog> access_log;
  observability::Metrics metrics;
  observability::ObserverList observers;
  std::unique_ptr<admin::AdminServer> admin_server;
  systemd::Notifier notifier;
  systemd::Watchdog watchdog;
  std::chrono::steady_clock::time_point started_at;
  bool started = false;
  bool stopping = false;
  bool draining = false;
  bool pid_file_written = false;

  void wait_usr1() {
    usr1.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      if (access_log) {
        spdlog::info("received SIGUSR1: reopening the access log {}", config.access_log.path);
        access_log->reopen();
      }
      wait_usr1();
    });
  }

  std::vector<observability::PoolSnapshot> snapshots() const {
    std::vector<observability::PoolSnapshot> out;
    for (auto* pool : gateway.pools()) {
      observability::PoolSnapshot snap;
      snap.name = pool->settings().name;
      snap.stats = pool->stats();
      for (const auto& w : pool->workers()) {
        observability::WorkerSnapshot ws;
        ws.pid = w.pid;
        ws.state = std::string(w.state);
        ws.generation = w.generation;
        ws.in_flight = w.in_flight;
        ws.streams = w.streams;
        ws.served = w.served;
        ws.rss_bytes = observability::process_rss_bytes(w.pid);
        ws.uptime_seconds = w.ready_seconds;
        snap.workers.push_back(std::move(ws));
      }
      out.push_back(std::move(snap));
    }
    return out;
  }
};

OpsRuntime::OpsRuntime(boost::asio::io_context& io, const GatewayConfig& config, Gateway& gateway)
    : impl_(std::make_unique<Impl>(io, config, gateway)) {
  impl_->access_log = observability::AccessLog::create(config.access_log);
  impl_->observers.add(impl_->access_log.get());
  impl_->observers.add(&impl_->metrics);
  gateway.set_observer(&impl_->observers);
  impl_->wait_usr1();
}

OpsRuntime::~OpsRuntime() {
  impl_->watchdog.stop();
  if (impl_->pid_file_written) systemd::remove_pid_file(impl_->config.process.pid_file);
}

std::string OpsRuntime::prepare() {
  auto& impl = *impl_;
  try {
    const auto inherited = systemd::take_listen_fds();
    if (!inherited.empty()) {
      std::vector<int> fds;
      for (const auto& s : inherited) fds.push_back(s.fd);
      spdlog::info("socket activation: {} listening socket(s) from systemd replace `listen`", fds.size());
      impl.gateway.adopt_listen_fds(std::move(fds));
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  if (auto error = impl.gateway.bind_listeners(); !error.empty()) return error;
  if (!impl.config.admin.listen.empty()) {
    try {
      impl.admin_server = std::make_unique<admin::AdminServer>(impl.io, impl.config.admin, *this);
      impl.admin_server->start();
      spdlog::info("admin listening on {}", impl.admin_server->address());
    } catch (const std::exception& e) {
      return "cannot listen for admin on " + impl.config.admin.listen + ": " + e.what();
    }
  }
  const auto& process = impl.config.process;
  if (!process.user.empty() || !process.group.empty()) {
    try {
      const auto id =
          systemd::resolve_identity(process.user.empty() ? std::string("root") : process.user, process.group);
      systemd::drop_privileges(id);
      spdlog::info("running as user {} (uid {}, gid {})", id.user, id.uid, id.gid);
    } catch (const std::exception& e) {
      return e.what();
    }
  }
  return {};
}

void OpsRuntime::on_started() {
  auto& impl = *impl_;
  impl.started = true;
  if (!impl.config.process.pid_file.empty()) {
    try {
      systemd::write_pid_file(impl.config.process.pid_file);
      impl.pid_file_written = true;
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
    }
  }
  std::string status = "READY=1\nSTATUS=listening on";
  for (const auto& a : impl.gateway.bound_addresses()) status += " " + a;
  status += "\nMAINPID=" + std::to_string(::getpid());
  impl.notifier.notify(status);
  impl.watchdog.start();
}

void OpsRuntime::on_stopping() {
  auto& impl = *impl_;
  if (impl.stopping) return;
  impl.stopping = true;
  impl.notifier.notify("STOPPING=1\nSTATUS=draining");
  // The watchdog keeps pinging: a long drain is not a hang.
}

std::string OpsRuntime::not_ready_reason() {
  auto& impl = *impl_;
  if (impl.stopping) return "shutting down";
  if (impl.draining) return "draining";
  if (!impl.started || !impl.gateway.running()) return "starting";
  for (auto* pool : impl.gateway.pools()) {
    if (pool->stats().workers_ready == 0) return "pool " + pool->settings().name + " has no ready worker";
  }
  return {};
}

std::string OpsRuntime::metrics_text() {
  std::string out;
  const auto pools = impl_->snapshots();
  const std::uint64_t dropped = impl_->access_log ? impl_->access_log->writer().dropped_lines() : 0;
  impl_->metrics.render(out, pools, not_ready_reason().empty(), dropped);
  return out;
}

std::string OpsRuntime::status_json() {
  using observability::append_json_string;
  auto& impl = *impl_;
  std::string out = "{\"pid\":" + std::to_string(::getpid());
  const auto why = not_ready_reason();
  out += ",\"ready\":";
  out += why.empty() ? "true" : "false";
  out += ",\"not_ready_reason\":";
  if (why.empty())
    out += "null";
  else
    append_json_string(out, why);
  out += ",\"uptime_seconds\":" +
         fixed3(std::chrono::duration<double>(std::chrono::steady_clock::now() - impl.started_at).count());
  out += ",\"listening\":[";
  bool first = true;
  for (const auto& a : impl.gateway.bound_addresses()) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, a);
  }
  out += "],\"pools\":[";
  first = true;
  for (const auto& p : impl.snapshots()) {
    if (!first) out += ',';
    first = false;
    out += "{\"name\":";
    append_json_string(out, p.name);
    out += ",\"workers_target\":" + std::to_string(p.stats.workers_target);
    out += ",\"workers_ready\":" + std::to_string(p.stats.workers_ready);
    out += ",\"workers_alive\":" + std::to_string(p.stats.workers_alive);
    out += ",\"in_flight\":" + std::to_string(p.stats.in_flight);
    out += ",\"streams\":" + std::to_string(p.stats.streams);
    out += ",\"queued\":" + std::to_string(p.stats.queued);
    out += ",\"restarts\":" + std::to_string(p.stats.restarts);
    out += ",\"recycled\":" + std::to_string(p.stats.recycled);
    out += ",\"generation\":" + std::to_string(p.stats.generation);
    out += ",\"crash_loop\":";
    out += p.stats.crash_loop ? "true" : "false";
    out += ",\"workers\":[";
    bool first_worker = true;
    for (const auto& w : p.workers) {
      if (!first_worker) out += ',';
      first_worker = false;
      out += "{\"pid\":" + std::to_string(w.pid);
      out += ",\"state\":";
      append_json_string(out, w.state);
      out += ",\"generation\":" + std::to_string(w.generation);
      out += ",\"in_flight\":" + std::to_string(w.in_flight);
      out += ",\"streams\":" + std::to_string(w.streams);
      out += ",\"requests_served\":" + std::to_string(w.served);
      out += ",\"rss_bytes\":" + std::to_string(w.rss_bytes);
      out += ",\"uptime_seconds\":" + fixed3(w.uptime_seconds) + "}";
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

admin::AdminResponse OpsRuntime::reload() {
  if (impl_->stopping) return reply(409, "shutting down: no reload");
  // The same path as SIGHUP: main re-reads the configuration and validates
  // it whole; the outcome is in the log.
  ::kill(::getpid(), SIGHUP);
  return reply(202, "reload started: the workers are replaced one at a time (see the log)");
}

admin::AdminResponse OpsRuntime::drain() {
  impl_->draining = true;
  spdlog::info("admin: draining: /readyz answers 503 from now on; traffic is still served");
  return reply(200, "draining: /readyz now answers 503; stop the process (SIGTERM) once traffic moved away");
}

admin::AdminResponse OpsRuntime::scale(std::string_view pool_name, std::string_view workers_text) {
  auto& impl = *impl_;
  if (impl.stopping) return reply(409, "shutting down: no scaling");
  if (!impl.gateway.running()) return reply(409, "not running yet");
  long target = 0;
  try {
    std::size_t used = 0;
    target = std::stol(std::string(workers_text), &used);
    if (used != workers_text.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return reply(400, "workers must be an integer: POST /scale?pool=NAME&workers=N");
  }
  if (target < 1 || target > 4096) return reply(400, "workers must be between 1 and 4096");
  for (auto* pool : impl.gateway.pools()) {
    if (pool->settings().name != pool_name) continue;
    long now = static_cast<long>(pool->stats().workers_target);
    // resize moves one worker at a time; each step is bounded by the target.
    while (now != target) {
      const long next = pool->resize(target > now ? +1 : -1);
      if (next == now) break;  // the pool refused (never below 1)
      now = next;
    }
    spdlog::info("admin: pool {} scaled to {} worker(s)", pool_name, now);
    return reply(200, "pool " + std::string(pool_name) + ": " + std::to_string(now) + " worker(s)");
  }
  return reply(404, "no pool named \"" + std::string(pool_name) + "\"");
}

// The switch lives in the edge layer (gateway/edge/maintenance_control.hpp).
admin::AdminResponse OpsRuntime::maintenance(bool change, std::string_view on, std::string_view pool,
                                             std::string_view close) {
  std::vector<std::string> names;
  for (auto* p : impl_->gateway.pools()) names.push_back(p->settings().name);
  const auto r = edge::control_maintenance(impl_->gateway.maintenance(), names, {change, on, pool, close});
  return {r.status, r.json ? "application/json" : "text/plain; charset=utf-8", r.body};
}

}  // namespace pagi::gateway
