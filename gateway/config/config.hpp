// The whole gateway configuration: what `--config FILE` and the command line
// produce together. Built and validated whole by load_config (exceptions with
// file:line:column), then handed to the gateway; nothing reads it globally.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/http_settings.hpp"
#include "workers/pool_settings.hpp"

namespace pagi::gateway {

struct ListenAddress {
  enum class Kind { tcp, unix_socket } kind = Kind::tcp;
  std::string host = "127.0.0.1";  // tcp: IPv4 or IPv6 literal, or "localhost"
  std::uint16_t port = 8080;       // tcp: 0 = ephemeral (the bound port is logged)
  std::string path;                // unix_socket
  std::string text() const;        // as written: "127.0.0.1:8080", "[::1]:80", "unix:/p"
};

struct GatewayConfig {
  std::vector<ListenAddress> listen = {ListenAddress{}};  // 127.0.0.1:8080
  HttpSettings http;
  std::vector<workers::PoolSettings> pools;  // exactly one for now
  std::string log_level = "info";            // trace debug info warn error
  std::string source;                        // config file path, "" when none
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `host:port`, `[v6]:port` or `unix:/path`. Throws ConfigError.
ListenAddress parse_listen_address(const std::string& text);

}  // namespace pagi::gateway
