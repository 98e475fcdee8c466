// How a pool gets a worker: a connected socket and a handle to signal and
// await it. Real processes (process_launcher.hpp) and in-process test fakes
// (tests/fakes/fake_worker_launcher.hpp) implement the same interface, so the
// pool's kill/exit handling is identical for both.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "workers/pool_settings.hpp"

namespace pagi::workers {

class BodyRing;

struct LaunchedWorker {
  int socket_fd = -1;  // gateway end: non-blocking, close-on-exec; the pool owns it
  int pid = -1;        // handle for signal(); a real pid for processes
  // The worker's shared body ring (pools.<name>.body_ring), null for none.
  std::shared_ptr<BodyRing> body_ring;
};

// Called once when the worker has exited (a `wait` status as from waitpid).
using ExitHandler = std::function<void(int wait_status)>;

class WorkerLauncher {
 public:
  virtual ~WorkerLauncher() = default;
  // Starts one worker. On failure returns pid -1 and sets `error` to a
  // sentence for the log. `on_exit` is called from the io_context, never
  // from inside launch().
  virtual LaunchedWorker launch(const PoolSettings& settings, ExitHandler on_exit, std::string& error) = 0;
  // Sends `signal` (SIGTERM, SIGKILL) to a launched worker; no-op once it exited.
  virtual void signal(int pid, int signal) = 0;
  // Resident memory of a launched worker in bytes (for max_rss); nullopt
  // when unknown.
  virtual std::optional<std::uint64_t> resident_bytes(int pid) {
    (void)pid;
    return std::nullopt;
  }
};

}  // namespace pagi::workers
