#include "workers/pool.hpp"

#include "workers/pool_core.hpp"

namespace pagi::workers {

Pool::Pool(boost::asio::io_context& io, PoolSettings settings, std::shared_ptr<WorkerLauncher> launcher)
    : core_(std::make_shared<PoolCore>(io, std::move(settings), std::move(launcher))) {}

Pool::~Pool() { core_->kill_all(false); }

void Pool::start(std::function<void(const PoolStartResult&)> done) { core_->start(std::move(done)); }

std::unique_ptr<Upstream> Pool::open_scope(const ScopeRequest& request, std::weak_ptr<Downstream> downstream) {
  return core_->open_scope(request, std::move(downstream));
}

bool Pool::supports(const ScopeRequest& request) { return core_->supports(request); }

std::size_t Pool::open_body_window(const ScopeRequest& request) {
  return request.expect_continue ? 0 : core_->settings().receive_window;
}

void Pool::stop(Clock::time_point in_flight_deadline, std::function<void()> done) {
  core_->stop(in_flight_deadline, std::move(done));
}

void Pool::kill_all() { core_->kill_all(true); }

PoolStats Pool::stats() const { return core_->stats(); }

const PoolSettings& Pool::settings() const { return core_->settings(); }

void Pool::reload(PoolSettings settings, std::function<void(const PoolReloadResult&)> done) {
  core_->reload(std::move(settings), std::move(done));
}

int Pool::resize(int delta) { return core_->resize(delta); }

}  // namespace pagi::workers
