// Attach mode: the pool listens on settings_.attach and serves the workers
// that connect there and name it in hello. They are supervised like spawned
// workers (handshake, lifespan, heartbeats, drain, recycling), except that
// the pool never starts or signals one: a lost attached worker is just
// disconnected and its own supervisor brings it back; recycling asks it to
// exit (`shutdown`) after draining; a gateway stop releases it (lifespan
// shutdown, then the connection closes without `shutdown`) so that it
// reconnects to the next gateway.
#include <algorithm>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "workers/pool_core.hpp"

namespace pagi::workers {

void PoolCore::open_attach_socket() {
  AttachSocketOptions options;
  options.path = settings_.attach;
  options.mode = settings_.attach_mode;
  options.owner = settings_.attach_owner;
  attach_listener_ = AttachListener::open(io_, options, [weak = weak_from_this()](int fd, int pid) {
    if (auto self = weak.lock()) {
      self->on_attach(fd, pid);
    } else {
      ::close(fd);
    }
  });
  spdlog::info("{}: waiting for workers on {}", describe(), settings_.attach);
}

void PoolCore::close_attach_socket() {
  if (attach_listener_) attach_listener_->close();
}

void PoolCore::on_attach(int fd, int peer_pid) {
  if (state_ != PoolState::running) {
    ::close(fd);
    return;
  }
  const auto connected = static_cast<std::size_t>(std::count_if(
      workers_.begin(), workers_.end(), [](const auto& e) { return e.second->life() != WorkerLife::dead; }));
  if (connected >= static_cast<std::size_t>(settings_.attach_max_workers)) {
    spdlog::warn("{}: refused a worker (pid {}) on {}: {} attached already (attach_max_workers)", describe(), peer_pid,
                 settings_.attach, connected);
    ::close(fd);
    return;
  }
  const std::uint32_t id = ++last_worker_id_;
  auto worker = std::make_shared<Worker>(io_, settings_, *this, launcher_, id);
  worker->recycle.generation = generation_;
  workers_.emplace(id, worker);
  spdlog::info("{}: worker {} connected (pid {})", describe(), id, peer_pid);
  worker->attach(fd, peer_pid);
}

bool PoolCore::has_live_worker() const {
  return std::any_of(workers_.begin(), workers_.end(), [](const auto& e) {
    const WorkerLife life = e.second->life();
    return life != WorkerLife::stopping && life != WorkerLife::dead;
  });
}

}  // namespace pagi::workers
