// The admin listener: a tiny HTTP/1 server on its own address (host:port or
// unix:/path), never the traffic port, answering the operations endpoints:
//   GET  /livez    200 while the process runs its event loop
//   GET  /readyz   200 when listening and every pool has a ready worker;
//                  503 during startup, drain and graceful shutdown
//   GET  /metrics  Prometheus text
//   GET  /status   JSON: pools and workers
//   POST /reload   as SIGHUP      POST /drain   stop being ready
//   POST /scale?pool=NAME&workers=N
//   GET  /maintenance   POST /maintenance?on=1|0[&pool=NAME][&close=1]
// One request per connection (Connection: close): admin traffic is a probe
// or a scrape every few seconds, not worth keep-alive state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/observability/ops_settings.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::gateway::admin {

struct AdminResponse {
  std::uint16_t status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// What the endpoints ask of the gateway; implemented by OpsRuntime.
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  // Empty when ready, else why not ("starting", "draining", "pool app has no ready worker").
  virtual std::string not_ready_reason() = 0;
  virtual std::string metrics_text() = 0;
  virtual std::string status_json() = 0;
  virtual AdminResponse reload() = 0;
  virtual AdminResponse drain() = 0;
  virtual AdminResponse scale(std::string_view pool, std::string_view workers) = 0;
  // Maintenance mode (docs/edge.md): `change` false = status (GET).
  virtual AdminResponse maintenance(bool change, std::string_view on, std::string_view pool, std::string_view close) {
    return {404, "text/plain; charset=utf-8", "no maintenance switch here\n"};
  }
};

// Routes one request; sans-I/O, so tests call it directly.
AdminResponse handle_admin_request(AdminBackend& backend, std::string_view method, std::string_view target);

class AdminServer {
 public:
  // Binds `settings.listen` (throws std::exception with the reason).
  AdminServer(boost::asio::io_context& io, const AdminSettings& settings, AdminBackend& backend);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  void start();
  void stop();
  // "http://127.0.0.1:9901" or "unix:/run/pagi-admin.sock", port resolved.
  const std::string& address() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pagi::gateway::admin
