// Limits and timeouts of client-facing HTTP. Every field is a config key
// under `http:` (docs/configuration.md); the defaults here are the documented
// defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace pagi::gateway {

using Seconds = std::chrono::duration<double>;

struct HttpSettings {
  // Request line (method, target, version) longest accepted -> 414.
  std::size_t max_request_line = 8 * 1024;
  // Whole header section -> 431.
  std::size_t max_header_bytes = 32 * 1024;
  // Header fields per request -> 431.
  std::size_t max_headers = 100;
  // Request body, declared or streamed -> 413. 0 = unlimited.
  std::uint64_t max_body_bytes = 1024ull * 1024 * 1024;
  // Open client connections; further accepts wait.
  std::size_t max_connections = 10000;
  // Pipelined requests read ahead of the one being answered.
  std::size_t max_pipelined = 16;
  // From connection accept (or end of the previous response) to a complete
  // request head.
  Seconds header_timeout{30};
  // Idle keep-alive connection between requests.
  Seconds keepalive_timeout{15};
  // No response started by then -> 504. 0 = off.
  Seconds request_timeout{60};
  // A write making no progress for this long aborts the connection.
  Seconds write_timeout{30};
  // Client stopped sending the body mid-request.
  Seconds body_timeout{60};
  // Graceful shutdown: in-flight scopes get this long to finish.
  Seconds shutdown_timeout{30};
  // Retry-After (seconds) on the gateway's own 503 responses.
  std::uint32_t retry_after_seconds = 1;
  // Value of the Server response header; empty = none.
  std::string server_header;
};

}  // namespace pagi::gateway
