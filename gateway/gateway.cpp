#include "gateway/gateway.hpp"

#include <chrono>
#include <exception>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "gateway/listener.hpp"
#include "workers/child_reaper.hpp"
#include "workers/pool.hpp"
#include "workers/process_launcher.hpp"

namespace pagi::gateway {

namespace {

std::string url_of(const boost::asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return "http://" + host + ":" + std::to_string(ep.port());
}

}  // namespace

struct Gateway::Impl {
  enum class Phase { created, starting, running, stopping, stopped };

  boost::asio::io_context& io;
  GatewayConfig config;
  workers::ChildReaper reaper;
  std::unique_ptr<workers::Pool> pool;
  std::unique_ptr<Listener> listener;
  boost::asio::steady_timer shutdown_timer;
  std::vector<std::string> bound;
  Phase phase = Phase::created;

  Impl(boost::asio::io_context& io_, GatewayConfig config_)
      : io(io_), config(std::move(config_)), reaper(io_), shutdown_timer(io_) {
    // Exactly one pool until routes arrive; config validation guarantees it.
    pool = std::make_unique<workers::Pool>(io, config.pools.front(),
                                           workers::make_process_launcher(reaper));
    listener = std::make_unique<Listener>(io, config.http, *pool);
  }

  std::string open_listeners() {
    try {
      for (const auto& addr : config.listen) {
        if (addr.kind == ListenAddress::Kind::unix_socket) {
          listener->listen_unix(addr.path);
          bound.push_back("unix:" + addr.path);
        } else {
          bound.push_back(url_of(listener->listen_tcp(addr.host, addr.port)));
        }
      }
    } catch (const std::exception& e) {
      return std::string("cannot listen: ") + e.what();
    }
    listener->start();
    return {};
  }

  void stop_pool(std::function<void()> done) {
    // In-flight scopes had their chance while the listener drained.
    pool->stop(workers::Pool::Clock::now(), [this, done = std::move(done)] {
      phase = Phase::stopped;
      done();
    });
  }
};

Gateway::Gateway(boost::asio::io_context& io, GatewayConfig config)
    : impl_(std::make_unique<Impl>(io, std::move(config))) {}

Gateway::~Gateway() = default;

void Gateway::start(std::function<void(const std::string&)> done) {
  impl_->phase = Impl::Phase::starting;
  impl_->pool->start([this, done = std::move(done)](const workers::PoolStartResult& result) {
    if (impl_->phase != Impl::Phase::starting) return;  // stopped meanwhile
    if (!result.ok) {
      done(result.message.empty() ? "the worker pool failed to start" : result.message);
      return;
    }
    std::string error = impl_->open_listeners();
    if (error.empty()) impl_->phase = Impl::Phase::running;
    done(error);
  });
}

void Gateway::stop(std::function<void()> done) {
  auto& impl = *impl_;
  if (impl.phase == Impl::Phase::stopping || impl.phase == Impl::Phase::stopped) return;
  impl.phase = Impl::Phase::stopping;
  auto finished = std::make_shared<bool>(false);
  auto stop_pool_once = [this, finished, done = std::move(done)]() mutable {
    if (*finished) return;
    *finished = true;
    impl_->shutdown_timer.cancel();
    impl_->stop_pool(std::move(done));
  };
  // Phase one: no new connections, idle ones closed, busy ones finish.
  impl.listener->shutdown(stop_pool_once);
  // Phase two: past the deadline whatever is left is closed hard.
  impl.shutdown_timer.expires_after(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          impl.config.http.shutdown_timeout));
  impl.shutdown_timer.async_wait([this, stop_pool_once](boost::system::error_code ec) mutable {
    if (ec) return;
    spdlog::warn("shutdown timeout reached: closing {} connection(s)",
                 impl_->listener->connection_count());
    impl_->listener->close_all();
    stop_pool_once();
  });
}

void Gateway::stop_now() {
  impl_->phase = Impl::Phase::stopped;
  impl_->shutdown_timer.cancel();
  impl_->listener->close_all();
  impl_->pool->kill_all();
}

const std::vector<std::string>& Gateway::bound_addresses() const { return impl_->bound; }

}  // namespace pagi::gateway
