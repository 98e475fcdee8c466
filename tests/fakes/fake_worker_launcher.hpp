// A WorkerLauncher whose "processes" are FakeWorkers on the same io_context,
// connected over a real socketpair. Signals are recorded; SIGTERM/SIGKILL
// end the fake process (unless it ignores SIGTERM), and the exit reaches the
// pool through the same ExitHandler path a reaped child takes.
#pragma once

#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "tests/fakes/fake_worker.hpp"
#include "workers/worker_launcher.hpp"

namespace pagi::fakes {

class FakeWorkerLauncher final : public workers::WorkerLauncher {
 public:
  explicit FakeWorkerLauncher(boost::asio::io_context& io) : io_(io) {}

  // Options for the n-th launch (0-based); default options when unset.
  std::function<FakeWorkerOptions(std::size_t index)> options_for;
  // Make the next launches fail (launch error, not a crash).
  int fail_launches = 0;
  // Fake processes ignore SIGTERM (to test the SIGKILL escalation).
  bool ignore_sigterm = false;

  workers::LaunchedWorker launch(const workers::PoolSettings& settings, workers::ExitHandler on_exit,
                                 std::string& error) override;
  void signal(int pid, int signal) override;
  std::optional<std::uint64_t> resident_bytes(int pid) override {
    auto it = rss.find(pid);
    if (it == rss.end()) return std::nullopt;
    return it->second;
  }
  // Resident memory the fake reports per pid (max_rss tests).
  std::map<int, std::uint64_t> rss;

  // Every worker ever launched, in launch order, with its fake pid.
  const std::vector<std::shared_ptr<FakeWorker>>& workers() const { return workers_; }
  FakeWorker& worker(std::size_t i) const { return *workers_.at(i); }
  int pid_of(std::size_t i) const { return 1000 + static_cast<int>(i); }
  const std::vector<std::pair<int, int>>& signals() const { return signals_; }
  std::size_t live_count() const;

 private:
  boost::asio::io_context& io_;
  std::vector<std::shared_ptr<FakeWorker>> workers_;
  std::vector<std::pair<int, int>> signals_;
};

}  // namespace pagi::fakes
