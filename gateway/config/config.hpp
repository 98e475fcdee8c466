// The whole gateway configuration: what `--config FILE` and the command line
// produce together. Built and validated whole by load_config (exceptions with
// file:line:column), then handed to the gateway; nothing reads it globally.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/edge/settings/edge_settings.hpp"
#include "gateway/http_settings.hpp"
#include "gateway/observability/ops_settings.hpp"
#include "gateway/tls/tls_settings.hpp"
#include "workers/pool_settings.hpp"

namespace pagi::gateway {

struct ListenAddress {
  enum class Kind { tcp, unix_socket } kind = Kind::tcp;
  std::string host = "127.0.0.1";  // tcp: IPv4 or IPv6 literal, or "localhost"
  std::uint16_t port = 8080;       // tcp: 0 = ephemeral (the bound port is logged)
  std::string path;                // unix_socket
  std::string text() const;        // as written: "127.0.0.1:8080", "[::1]:80", "unix:/p"
  // Map form of a listen entry ({address, tls, h2c}): TLS on this listener
  // (absent = cleartext), and whether cleartext HTTP/2 (prior knowledge and
  // Upgrade: h2c) is accepted. `entry` keeps the map's text for the summary.
  std::optional<tls::TlsSettings> tls;
  bool h2c = true;
  // `h2c: only`: cleartext HTTP/2 with prior knowledge and nothing else; a
  // connection not starting with the client preface gets GOAWAY.
  bool h2c_only = false;
  std::string entry;
};

// One entry of `routes:`: a path prefix (segments; `:name` = parameter)
// and the pool serving it.
struct RouteConfig {
  std::string prefix;
  std::string pool;
};

struct GatewayConfig {
  std::vector<ListenAddress> listen = {ListenAddress{}};  // 127.0.0.1:8080
  HttpSettings http;
  std::vector<workers::PoolSettings> pools;  // one or more; several need routes
  std::vector<RouteConfig> routes;           // empty with one pool: everything to it
  std::string log_level = "info";            // trace debug info warn error
  std::string log_format = "text";           // text json (gateway/observability/error_log.hpp)
  AccessLogSettings access_log;              // `access_log:`
  AdminSettings admin;                       // `admin:` (off unless listen is set)
  ProcessSettings process;                   // pid_file, user, group, systemd_notify
  edge::EdgeSettings edge;                   // trusted_proxies, access, rate_limits, maintenance, static (docs/edge.md)
  std::string source;                        // config file path, "" when none
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `host:port`, `[v6]:port` or `unix:/path`. Throws ConfigError.
ListenAddress parse_listen_address(const std::string& text);

// Parses the map form of a listen entry, as flow YAML text
// ("{address: ..., tls: {cert: ..., key: ...}, h2c: false}"); relative
// certificate paths start at `base_dir`. Throws ConfigError.
ListenAddress parse_listen_entry(const std::string& text, const std::string& base_dir);

}  // namespace pagi::gateway
