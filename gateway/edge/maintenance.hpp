// Maintenance mode: whether scopes get a 503 instead of reaching the app.
// Switched at run time by the admin hook API below (for the admin
// endpoint), by SIGUSR2 (toggles the global switch) and by the presence of
// `maintenance.file` (polled every `poll_interval`). Global or per pool.
// Only new scopes are refused: open WebSockets and SSE streams go on,
// unless `close_streams` is set or a switch asks (close_streams()).
// A config reload (update()) keeps the run-time switches.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "gateway/edge/settings/edge_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::gateway::edge {

class Maintenance {
 public:
  explicit Maintenance(const MaintenanceSettings& settings);
  ~Maintenance();

  // Starts the SIGUSR2 handler and the file poll on `io`.
  void start(boost::asio::io_context& io);
  void stop();

  // ---- the hook API (admin endpoint, tests) ----
  // Global switch: every pool.
  void set_global(bool on);
  bool global() const { return global_; }
  // One pool's switch.
  void set_pool(std::string_view pool, bool on);
  // Whether a scope for `pool` is refused now (global, that pool, or the file).
  bool active_for(std::string_view pool) const;
  // {"global":false,"file":false,"pools":["a"]} for a status endpoint.
  std::string status_json() const;
  // Called on every change (logs it).
  void on_change(std::function<void()> cb) { on_change_ = std::move(cb); }
  // Closes the open WebSockets and SSE streams of `pool` ("" = every pool)
  // except those of bypass clients and exempt paths; returns how many.
  // The edge runtime provides the closer (it knows the open streams).
  std::size_t close_streams(std::string_view pool);
  void set_stream_closer(std::function<std::size_t(std::string_view pool)> closer) { closer_ = std::move(closer); }

  // A reloaded config: new bodies, bypass, exempt paths, file. The switches
  // set at run time stay, except that `enabled`/`pools` apply again when
  // they differ from the previous config.
  void update(const MaintenanceSettings& next);

  const MaintenanceSettings& settings() const { return settings_; }
  const CidrSet& bypass() const { return bypass_; }
  bool exempt(std::string_view path) const;

 private:
  struct Runtime;
  void changed(const char* why);
  void switched_on(std::string_view pool);
  void apply_enabled();

  MaintenanceSettings settings_;
  CidrSet bypass_;
  bool global_ = false;
  bool file_present_ = false;
  std::set<std::string, std::less<>> pools_;
  std::function<void()> on_change_;
  std::function<std::size_t(std::string_view)> closer_;
  std::shared_ptr<Runtime> runtime_;
};

}  // namespace pagi::gateway::edge
