// Operations around a running Gateway: the access log and metrics (as the
// listeners' observer), the admin listener and its endpoints, systemd
// notify/watchdog and socket activation, the pid file, dropping privileges,
// and SIGUSR1 (reopen the access log). main() drives it at four moments:
// construct, prepare() before Gateway::start, on_started(), on_stopping().
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "gateway/admin/admin_server.hpp"
#include "gateway/config/config.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::gateway {

class Gateway;

class OpsRuntime final : public admin::AdminBackend {
 public:
  // Opens the access log (throws std::exception: bad format, unwritable file).
  OpsRuntime(boost::asio::io_context& io, const GatewayConfig& config, Gateway& gateway);
  ~OpsRuntime() override;

  // Before Gateway::start: takes sockets passed by systemd, binds the
  // listeners and the admin listener, drops privileges. "" or why it failed.
  std::string prepare();
  // Every pool ready and the listeners accepting: READY=1, pid file, watchdog.
  void on_started();
  // Graceful shutdown began: STOPPING=1, /readyz turns 503.
  void on_stopping();

  // admin::AdminBackend
  std::string not_ready_reason() override;
  std::string metrics_text() override;
  std::string status_json() override;
  admin::AdminResponse reload() override;
  admin::AdminResponse drain() override;
  admin::AdminResponse scale(std::string_view pool, std::string_view workers) override;
  admin::AdminResponse maintenance(bool change, std::string_view on, std::string_view pool,
                                   std::string_view close) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pagi::gateway
