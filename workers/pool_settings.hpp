// Settings of one worker pool. Every field is a config key under
// pools.<name> (docs/configuration.md); the defaults here are the documented
// defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/pagi.capnp.h"

namespace pagi::workers {

using Seconds = std::chrono::duration<double>;

struct PoolSettings {
  std::string name = "app";
  // The app to run: a Perl PAGI file (*.pl), or a Python module:attribute
  // or /abs/path/file.py:attribute. Decides the default command.
  std::string app;
  // Python apps: how the SDK calls the app: auto, asgi, wsgi or pagi.
  std::string interface = "auto";
  // Python apps: directory module:attribute is imported from; set to the
  // config file's directory (or the working directory) with the app.
  std::string app_dir;
  // Python apps: the interpreter, looked up in PATH when not a path.
  std::string python = "python3";
  // CGI pools (app *.cgi or a directory, key `cgi`): longest a script may
  // run; then SIGTERM, SIGKILL after cgi_kill_grace, 504 if nothing was sent.
  Seconds cgi_timeout{30};
  Seconds cgi_kill_grace{3};
  // Full worker argv; empty = derived from `app` (perl SDK's worker script).
  std::vector<std::string> command;
  // Extra environment for the workers.
  std::map<std::string, std::string> env;
  // Worker processes.
  int workers = 2;
  // Scopes one worker runs at once. 0 = what the worker's hello says
  // (the Perl SDK says 100 for PAGI apps).
  int concurrency = 0;
  // websocket and sse scopes one worker runs at once, counted apart from
  // `concurrency` (which then governs http scopes only). 0 = 10000. A worker
  // whose concurrency is 1 ignores it: every scope, stream or not, takes its
  // single slot (docs/operations.md, "Concurrency").
  int stream_concurrency = 0;
  // websocket and sse scopes open in the whole pool at once; a handshake
  // beyond waits in the queue like any scope. 0 = no pool-wide bound (then
  // workers x stream_concurrency bounds it).
  int max_streams = 0;
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
  std::uint32_t send_window = 512 * 1024;
  // Request body bytes per scope sent before the app asks for more.
  std::uint32_t receive_window = 256 * 1024;
  // Largest frame accepted from a worker.
  std::uint32_t max_message_bytes = 16 * 1024 * 1024;
  // Bytes of the shared memory ring a spawned worker may put response
  // bodies in (docs/protocol.md "3c"); 0 = bodies only through the socket.
  std::uint32_t body_ring = 32 * 1024 * 1024;
  // Heartbeat ping interval; 0 disables.
  Seconds heartbeat_interval{5};
  // Unanswered heartbeats after which a worker counts as hung and is killed.
  int heartbeat_misses = 3;
  // Graceful stop: after `shutdown` (and again after SIGTERM) a worker gets
  // this long to exit before the next, harder signal.
  Seconds stop_grace{5};

  // ---- recycling and hung workers (docs/operations.md) ----
  // A worker is recycled (replacement first, then drain) after this many
  // scopes of any type. 0 = never.
  std::uint64_t max_requests = 0;
  // Random extra scopes, 0..jitter, added per worker so they do not all
  // recycle at once.
  std::uint64_t max_requests_jitter = 0;
  // A worker is recycled after this long ready. 0 = never.
  Seconds max_lifetime{0};
  // Random extra lifetime, 0..jitter, per worker.
  Seconds max_lifetime_jitter{0};
  // Resident memory above which a worker is recycled. 0 = no limit.
  std::uint64_t max_rss = 0;
  // Consecutive samples over max_rss that trigger the recycle.
  int max_rss_samples = 3;
  // How often lifetimes are checked and memory is sampled.
  Seconds check_interval{1};
  // A draining worker's scopes get this long to finish; then they are
  // closed with server_shutdown and the worker is stopped.
  Seconds drain_timeout{30};
  // No response started by then -> 504. 0 = inherit http.request_timeout
  // (the gateway fills it in; the pool treats 0 as off).
  Seconds request_timeout{0};
  // After a request timeout the worker is told (httpDisconnect) and gets this
  // long to end the scope; a worker still holding it is replaced.
  Seconds cancel_grace{5};

  // ---- attach mode (docs/operations.md) ----
  // Non-empty: the pool spawns nothing; it listens on this Unix socket and
  // serves the workers that connect and name it in hello.pool.
  std::string attach;
  // Permission bits and owner ("user" or "user:group"; "" = the gateway's)
  // of that socket file.
  unsigned attach_mode = 0660;
  std::string attach_owner;
  // Attached workers served at once; further connections are refused.
  int attach_max_workers = 64;
};

// The default of stream_concurrency: idle streams cost ~14 KiB each
// (gateway + Perl worker, docs/benchmarks.md), so 10000 is ~140 MiB.
inline constexpr std::size_t kDefaultStreamConcurrency = 10000;
inline std::size_t effective_stream_concurrency(const PoolSettings& s) {
  return s.stream_concurrency > 0 ? static_cast<std::size_t>(s.stream_concurrency) : kDefaultStreamConcurrency;
}

}  // namespace pagi::workers
