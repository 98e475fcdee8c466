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

namespace pagi::gateway {

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

  // What the listeners are bound to, e.g. "http://127.0.0.1:8080",
  // "unix:/run/pagi.sock" (ports resolved when 0 was asked).
  const std::vector<std::string>& bound_addresses() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pagi::gateway
