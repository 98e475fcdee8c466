// Operations settings: the access log (`access_log:`), the admin listener
// (`admin:`) and process integration (top-level `pid_file`, `user`,
// `group`). Every field is a config key (docs/configuration.md); the
// defaults here are the documented defaults.
#pragma once

#include <cstddef>
#include <string>

#include "gateway/http_settings.hpp"

namespace pagi::gateway {

struct AccessLogSettings {
  // common | combined | tiny | json, or a custom format of %atoms
  // (docs/operations.md lists them).
  std::string format = "combined";
  // stdout | stderr | off | a file path (reopened on SIGUSR1).
  std::string path = "off";
  // Longest a written line waits in memory before it reaches the destination.
  Seconds flush_interval{0.5};
  // Lines waiting for the writer beyond this many bytes are dropped (and
  // counted) instead of growing memory when the destination is stuck.
  std::size_t buffer_bytes = 4 * 1024 * 1024;
};

struct AdminSettings {
  // host:port or unix:/path; empty = no admin listener.
  std::string listen;
  // Largest admin request head accepted.
  std::size_t max_request_bytes = 16 * 1024;
  // A client that sends no complete request in this time is closed.
  Seconds request_timeout{10};
};

struct ProcessSettings {
  // Written with the gateway's pid after startup, removed at exit.
  std::string pid_file;
  // Drop privileges to this user (and group) after binding; "" = stay.
  std::string user;
  std::string group;
  // Tell systemd (NOTIFY_SOCKET) the gateway is ready/stopping and ping its
  // watchdog; the variables decide whether anything is sent.
  bool systemd_notify = true;
};

}  // namespace pagi::gateway
