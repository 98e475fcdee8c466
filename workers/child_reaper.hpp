// Reaps every child of the gateway: one asio signal_set on SIGCHLD and a
// waitpid(-1, WNOHANG) loop that hands each exit to the handler registered
// for that pid. There must be only one per process (waitpid(-1) takes
// everyone's children), so main owns it and passes it to the launchers.
#pragma once

#include <memory>
#include <unordered_map>

#include "workers/worker_launcher.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::workers {

class ChildReaper {
 public:
  explicit ChildReaper(boost::asio::io_context& io);
  ~ChildReaper();
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // Register before the child can exit unseen: call right after fork().
  void watch(int pid, ExitHandler on_exit);
  bool watching(int pid) const { return handlers_.count(pid) != 0; }
  // Reap now (also runs on every SIGCHLD); useful after a synchronous kill.
  void reap();
  boost::asio::io_context& io() const { return io_; }

 private:
  struct Signals;
  void arm();
  boost::asio::io_context& io_;
  std::unique_ptr<Signals> signals_;
  std::unordered_map<int, ExitHandler> handlers_;
  bool armed_ = false;  // a SIGCHLD wait is pending
};

}  // namespace pagi::workers
