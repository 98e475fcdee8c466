// The gateway as a library: pools, listeners and their start/stop order,
// driven on a caller-owned io_context. pagi-gateway's main() is a thin shell
// over it (signals, logging, exit codes), and an embedding program can run it
// next to its own Asio services.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::workers {
class Pool;
}

namespace pagi::gateway {

namespace observability {
class ExchangeObserver;
}
namespace edge {
class Maintenance;
}

class Gateway {
 public:
  // `config` must be complete and validated (load_config/parse_command_line).
  Gateway(boost::asio::io_context& io, GatewayConfig config);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Starts every pool; once all their workers are ready, binds and opens the
  // listeners. `done` gets "" on success, or why it failed (the app's
  // lifespan.startup.failed message, a bind error). Never throws.
  void start(std::function<void(const std::string& error)> done);

  // Graceful stop: close listeners, let in-flight exchanges finish up to
  // http.shutdown_timeout, then stop the pools (lifespan shutdown, exit).
  // `done` runs when every connection is closed and every worker reaped.
  void stop(std::function<void()> done);

  // Hard stop: close every connection and SIGKILL every worker now.
  void stop_now();

  // SIGHUP: `config` (validated whole by the caller) replaces the pools'
  // settings through a rolling replacement of every worker, and the edge
  // rules at once (docs/edge.md "Reload"); what needs a restart
  // (listeners, the set of pools, routes) is logged and kept.
  void reload(GatewayConfig config);
  // SIGTTIN (+1) / SIGTTOU (-1): one worker more or less in every pool
  // (never below 1).
  void resize(int delta);

  // What the listeners are bound to, e.g. "http://127.0.0.1:8080",
  // "unix:/run/pagi.sock" (ports resolved when 0 was asked).
  const std::vector<std::string>& bound_addresses() const;

  // ---- operations hooks (gateway/ops_runtime.cpp) ----
  // Socket activation: accept on these inherited listening fds instead of
  // config.listen. Call before bind_listeners()/start().
  void adopt_listen_fds(std::vector<int> fds);
  // Binds the listeners now (start() then only starts accepting), so
  // privileges can be dropped before the workers are spawned. "" or why not.
  std::string bind_listeners();
  // Access log and metrics; before start(); must outlive the gateway's connections.
  void set_observer(observability::ExchangeObserver* observer);
  // start() succeeded and stop() was not called.
  bool running() const;
  std::vector<workers::Pool*> pools() const;
  // Maintenance mode switches (gateway/edge/maintenance.hpp) for the admin
  // endpoint: set_global, set_pool, status_json.
  edge::Maintenance& maintenance();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pagi::gateway
