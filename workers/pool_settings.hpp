// Settings of one worker pool. Every field is a config key under
// pools.<name> (docs/configuration.md); the defaults here are the documented
// defaults.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/pagi.capnp.h"

namespace pagi::workers {

using Seconds = std::chrono::duration<double>;

struct PoolSettings {
  std::string name = "app";
  // The app to run: a Perl PAGI file (*.pl). Decides the default command.
  std::string app;
  // Full worker argv; empty = derived from `app` (perl SDK's worker script).
  std::vector<std::string> command;
  // Extra environment for the workers.
  std::map<std::string, std::string> env;
  // Worker processes.
  int workers = 2;
  // Scopes one worker runs at once. 0 = what the worker's hello says
  // (the Perl SDK says 100 for PAGI apps).
  int concurrency = 0;
  wire::LifespanMode lifespan = wire::LifespanMode::AUTO;
  // Scopes waiting for a free worker slot; past this -> 503.
  std::size_t queue_size = 1024;
  // Longest wait in that queue -> 503 + Retry-After.
  Seconds queue_timeout{30};
  // Spawn to ready (hello + lifespan startup).
  Seconds startup_timeout{60};
  // Lifespan shutdown plus exit after SIGTERM to the gateway.
  Seconds shutdown_timeout{30};
  // Crash restart backoff: first delay, cap; doubled per consecutive failure.
  Seconds restart_delay{0.1};
  Seconds restart_delay_max{30};
  // Consecutive failed starts after which the pool is reported crash-looping.
  int crash_loop_threshold = 5;
  // Response bytes per scope a worker may have in flight (flow control).
  std::uint32_t send_window = 256 * 1024;
  // Request body bytes per scope sent before the app asks for more.
  std::uint32_t receive_window = 256 * 1024;
  // Largest frame accepted from a worker.
  std::uint32_t max_message_bytes = 16 * 1024 * 1024;
  // Heartbeat ping interval; 0 disables.
  Seconds heartbeat_interval{5};
  // Unanswered heartbeats after which a worker counts as hung and is killed.
  int heartbeat_misses = 3;
  // Graceful stop: after `shutdown` (and again after SIGTERM) a worker gets
  // this long to exit before the next, harder signal.
  Seconds stop_grace{5};
};

}  // namespace pagi::workers
