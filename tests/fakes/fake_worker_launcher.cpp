#include "tests/fakes/fake_worker_launcher.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sys/socket.h>

#include "workers/body_ring.hpp"

namespace pagi::fakes {

workers::LaunchedWorker FakeWorkerLauncher::launch(const workers::PoolSettings& settings, workers::ExitHandler on_exit,
                                                   std::string& error) {
  if (fail_launches > 0) {
    --fail_launches;
    error = "fake launch failure";
    return {};
  }
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    error = "socketpair failed";
    return {};
  }
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  const std::size_t index = workers_.size();
  FakeWorkerOptions options = options_for ? options_for(index) : FakeWorkerOptions{};
  auto worker = std::make_shared<FakeWorker>(io_, fds[1], std::move(options));
  worker->on_exit = std::move(on_exit);
  workers_.push_back(worker);
  std::shared_ptr<workers::BodyRing> ring;
  if (worker->options().body_ring && settings.body_ring > 0) {
    ring = workers::BodyRing::create(settings.body_ring, error);
    if (!ring) return {};
    worker->map_body_ring(ring->fd(), ring->size());
    ring->close_fd();
  }
  worker->start();
  return {fds[0], pid_of(index), std::move(ring)};
}

void FakeWorkerLauncher::signal(int pid, int sig) {
  signals_.emplace_back(pid, sig);
  const std::size_t index = static_cast<std::size_t>(pid - 1000);
  if (index >= workers_.size()) return;
  if (sig == SIGKILL || (sig == SIGTERM && !ignore_sigterm)) workers_[index]->exit(sig);
}

std::size_t FakeWorkerLauncher::live_count() const {
  std::size_t n = 0;
  for (const auto& w : workers_) n += w->exited() ? 0 : 1;
  return n;
}

}  // namespace pagi::fakes
