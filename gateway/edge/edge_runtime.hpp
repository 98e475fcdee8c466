// The edge layer of a running gateway (docs/edge.md). It owns the state
// every listener shares - rate-limit buckets, the maintenance switch, the
// route index - and one EdgeOpener per listener, a ScopeOpener decorator
// placed in front of the router:
//
//   listener -> [PROXY header] -> http1 connection -> EdgeOpener -> Router -> Pool
//
// Per scope the EdgeOpener: resolves the client behind trusted proxies
// (scope client and scheme), applies the access rules (route, else
// listener, else global), the rate limits, static mounts and maintenance
// mode, answering locally (403/429/404/503/static file) through the same
// Downstream calls a worker's response takes, and otherwise opens the scope
// on the pool - behind the X-Sendfile filter when that is configured.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/edge/maintenance.hpp"
#include "gateway/edge/settings/edge_settings.hpp"
#include "workers/upstream.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::gateway::edge {

class EdgeRuntime {
 public:
  // `config` is the validated whole config (edge settings, routes, pools).
  EdgeRuntime(boost::asio::io_context& io, const GatewayConfig& config);
  ~EdgeRuntime();
  EdgeRuntime(const EdgeRuntime&) = delete;
  EdgeRuntime& operator=(const EdgeRuntime&) = delete;

  // SIGUSR2 and the maintenance file poll.
  void start();
  void stop();
  // A reloaded config (validated whole; its routes and pools replaced by
  // the running ones): new access lists, trusted proxies, rate limits
  // (an unchanged limit keeps its buckets, a changed one starts full),
  // static mounts, X-Sendfile roots and maintenance settings. A listener's
  // proxy_protocol needs a restart (logged, kept).
  void reload(const GatewayConfig& config);

  // The opener for the listener bound to `listen_text` (ListenAddress::text()),
  // in front of `inner`; owned by the runtime, stable for its life.
  workers::ScopeOpener& opener_for(const std::string& listen_text, workers::ScopeOpener& inner);
  // The listener expects a PROXY protocol header on every connection.
  bool proxy_protocol(const std::string& listen_text) const;
  // `action: close` rules, decided on a new connection's peer address:
  // false = close it before reading anything.
  bool closes_connections(const std::string& listen_text) const;
  bool admit_connection(const std::string& listen_text, std::string_view peer_host) const;

  // Maintenance switches (admin endpoint hook API, tests).
  Maintenance& maintenance();

  struct Shared;  // state every listener's opener uses (edge_opener.cpp)

 private:
  std::unique_ptr<Shared> shared_;
};

}  // namespace pagi::gateway::edge
