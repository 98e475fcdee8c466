#include "gateway/edge/maintenance.hpp"

#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace pagi::gateway::edge {
namespace asio = boost::asio;

// Owned by its pending handlers (and the Maintenance): a handler that runs
// after stop() finds `stopped` and returns without touching the Maintenance.
struct Maintenance::Runtime {
  explicit Runtime(asio::io_context& io) : signals(io, SIGUSR2), poll(io) {}
  asio::signal_set signals;
  asio::steady_timer poll;
  bool stopped = false;
  unsigned poll_epoch = 0;  // a reload restarts the poll: older waits end

  static void wait_signal(Maintenance* self, std::shared_ptr<Runtime> rt) {
    auto* r = rt.get();
    r->signals.async_wait([self, rt = std::move(rt)](boost::system::error_code ec, int) mutable {
      if (ec || rt->stopped) return;
      self->global_ = !self->global_;
      self->changed("SIGUSR2");
      if (self->global_) self->switched_on("");
      wait_signal(self, std::move(rt));
    });
  }

  static void check_file(Maintenance* self, std::shared_ptr<Runtime> rt, unsigned epoch) {
    struct stat st {};
    const bool present = ::stat(self->settings_.file.c_str(), &st) == 0;
    if (present != self->file_present_) {
      self->file_present_ = present;
      self->changed(present ? "file appeared" : "file removed");
      if (present) self->switched_on("");
    }
    auto* r = rt.get();
    r->poll.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(self->settings_.poll_interval)));
    r->poll.async_wait([self, rt = std::move(rt), epoch](boost::system::error_code ec) mutable {
      if (ec || rt->stopped || rt->poll_epoch != epoch) return;
      check_file(self, std::move(rt), epoch);
    });
  }
};

Maintenance::Maintenance(const MaintenanceSettings& settings) : settings_(settings), bypass_(settings.bypass) {
  apply_enabled();
}

void Maintenance::apply_enabled() {
  global_ = settings_.enabled && settings_.pools.empty();
  pools_.clear();
  if (settings_.enabled)
    for (const auto& p : settings_.pools) pools_.insert(p);
}

void Maintenance::update(const MaintenanceSettings& next) {
  const bool switches_changed = next.enabled != settings_.enabled || next.pools != settings_.pools;
  const bool poll_changed = next.file != settings_.file || next.poll_interval != settings_.poll_interval;
  settings_ = next;
  bypass_ = CidrSet(next.bypass);
  if (switches_changed) {
    apply_enabled();
    changed("config reload");
    if (global_) switched_on("");
    for (const auto& p : pools_) switched_on(p);
  }
  if (poll_changed) {
    // A new file (or none): watch it afresh. (The SIGUSR2 handler stays:
    // removing it even for a moment would let the signal kill the process.)
    if (file_present_) {
      file_present_ = false;
      changed("file setting changed");
    }
    if (runtime_) {
      ++runtime_->poll_epoch;
      runtime_->poll.cancel();
      if (!settings_.file.empty()) Runtime::check_file(this, runtime_, runtime_->poll_epoch);
    }
  }
}

Maintenance::~Maintenance() { stop(); }

void Maintenance::start(asio::io_context& io) {
  if (runtime_) return;
  runtime_ = std::make_shared<Runtime>(io);
  Runtime::wait_signal(this, runtime_);
  if (!settings_.file.empty()) Runtime::check_file(this, runtime_, runtime_->poll_epoch);
}

void Maintenance::stop() {
  if (!runtime_) return;
  runtime_->stopped = true;
  boost::system::error_code ec;
  runtime_->signals.cancel(ec);
  runtime_->poll.cancel();
  runtime_.reset();
}

void Maintenance::set_global(bool on) {
  if (global_ == on) return;
  global_ = on;
  changed("admin");
  if (on) switched_on("");
}

void Maintenance::set_pool(std::string_view pool, bool on) {
  const bool had = pools_.count(pool) != 0;
  if (had == on) return;
  if (on)
    pools_.emplace(pool);
  else
    pools_.erase(pools_.find(pool));
  changed("admin");
  if (on) switched_on(pool);
}

std::size_t Maintenance::close_streams(std::string_view pool) {
  const std::size_t n = closer_ ? closer_(pool) : 0;
  if (n)
    spdlog::warn("maintenance mode: closed {} open WebSocket/SSE stream(s){}{}", n, pool.empty() ? "" : " of pool ",
                 pool);
  return n;
}

void Maintenance::switched_on(std::string_view pool) {
  if (settings_.close_streams) close_streams(pool);
}

bool Maintenance::active_for(std::string_view pool) const {
  return global_ || file_present_ || (!pools_.empty() && pools_.count(pool) != 0);
}

bool Maintenance::exempt(std::string_view path) const {
  for (const auto& p : settings_.exempt_paths)
    if (path == p) return true;
  return false;
}

std::string Maintenance::status_json() const {
  std::string out = "{\"global\":";
  out += global_ ? "true" : "false";
  out += ",\"file\":";
  out += file_present_ ? "true" : "false";
  out += ",\"pools\":[";
  bool first = true;
  for (const auto& p : pools_) {
    if (!first) out += ",";
    first = false;
    out += "\"" + p + "\"";  // pool names are [A-Za-z0-9_-]
  }
  return out + "]}";
}

void Maintenance::changed(const char* why) {
  spdlog::warn("maintenance mode ({}): global {}, file {}, pools {}", why, global_ ? "on" : "off",
               file_present_ ? "present" : "absent", pools_.size());
  if (on_change_) on_change_();
}

}  // namespace pagi::gateway::edge
