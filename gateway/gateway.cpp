#include "gateway/gateway.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "gateway/config/route_table.hpp"
#include "gateway/edge/edge_runtime.hpp"
#include "gateway/listener.hpp"
#include "gateway/router.hpp"
#include "workers/child_reaper.hpp"
#include "workers/pool.hpp"
#include "workers/process_launcher.hpp"

namespace pagi::gateway {

namespace {

// http.request_timeout is every pool's default; a pool's own overrides it.
// The pools enforce it (504 plus cancel and, if stuck, replacement), so the
// HTTP layer's own timer is switched off.
// The frame limit for a pool's workers is raised, never lowered, to hold
// the largest WebSocket message a client may send plus the frame's own
// bytes: an app must be able to send back (echo) what it was allowed to get.
constexpr std::uint64_t kWsFrameHeadroom = 64 * 1024;

workers::PoolSettings effective_pool_settings(workers::PoolSettings pool, const HttpSettings& http) {
  if (pool.request_timeout <= workers::Seconds::zero()) pool.request_timeout = http.request_timeout;
  const std::uint64_t ws_frame =
      std::min<std::uint64_t>(static_cast<std::uint64_t>(http.max_ws_message_size) + kWsFrameHeadroom, UINT32_MAX);
  if (pool.max_message_bytes < ws_frame) pool.max_message_bytes = static_cast<std::uint32_t>(ws_frame);
  return pool;
}

HttpSettings listener_settings(HttpSettings http) {
  http.request_timeout = Seconds(0);
  return http;
}

std::vector<std::string> pool_names(const GatewayConfig& config) {
  std::vector<std::string> names;
  for (const auto& pool : config.pools) names.push_back(pool.name);
  return names;
}

std::string listen_text(const GatewayConfig& config) {
  std::string out;
  for (const auto& a : config.listen) out += a.text() + " ";
  return out;
}

}  // namespace

struct Gateway::Impl {
  enum class Phase { created, starting, running, stopping, stopped };

  boost::asio::io_context& io;
  GatewayConfig config;
  workers::ChildReaper reaper;
  std::shared_ptr<workers::WorkerLauncher> launcher;
  std::vector<std::unique_ptr<workers::Pool>> pools;  // config.pools order
  Router router;
  std::unique_ptr<edge::EdgeRuntime> edge;  // before the listener: its openers outlive the connections
  std::unique_ptr<Listener> listener;
  boost::asio::steady_timer shutdown_timer;
  std::vector<std::string> bound;
  Phase phase = Phase::created;
  std::size_t pools_started = 0;
  bool start_failed = false;       // one pool failed: the others' results no longer matter
  std::vector<int> inherited_fds;  // socket activation: used instead of config.listen
  bool listeners_bound = false;

  Impl(boost::asio::io_context& io_, GatewayConfig config_)
      : io(io_),
        config(std::move(config_)),
        reaper(io_),
        launcher(workers::make_process_launcher(reaper)),
        router(io_),
        shutdown_timer(io_) {
    std::vector<workers::ScopeOpener*> openers;
    for (const auto& settings : config.pools) {
      pools.push_back(std::make_unique<workers::Pool>(io, effective_pool_settings(settings, config.http), launcher));
      openers.push_back(pools.back().get());
    }
    // Validated by load_config; compile cannot fail here.
    router.set_table(RouteTable::compile(config.routes, pool_names(config)), std::move(openers));
    edge = std::make_unique<edge::EdgeRuntime>(io, config);
    listener = std::make_unique<Listener>(io, listener_settings(config.http), router);
  }

  // The edge policy of the socket just bound (`listen_text` as in the config).
  void apply_edge(const std::string& listen_text) {
    EdgeHooks hooks;
    hooks.opener = &edge->opener_for(listen_text, router);
    hooks.proxy_protocol = edge->proxy_protocol(listen_text);
    // Always installed: a reload may bring `action: close` rules.
    hooks.admit = [rt = edge.get(), listen_text](std::string_view peer) {
      return rt->admit_connection(listen_text, peer);
    };
    listener->set_edge_hooks(std::move(hooks));
  }

  // Binds (or adopts the sockets systemd passed) without accepting yet, so
  // privileges can be dropped before any worker is spawned.
  std::string bind_listeners() {
    if (listeners_bound) return {};
    listeners_bound = true;
    try {
      for (int fd : inherited_fds) {
        bound.push_back(listener->adopt_fd(fd));
        apply_edge("");  // no listen entry to match: the global edge policy
      }
      if (!inherited_fds.empty()) return {};
      for (const auto& addr : config.listen) {
        if (addr.kind == ListenAddress::Kind::unix_socket) {
          listener->listen_unix(addr.path);
          apply_edge(addr.text());
          bound.push_back("unix:" + addr.path);
        } else {
          auto url = http_url(listener->listen_tcp(addr.host, addr.port, addr.tls, addr.h2c, addr.h2c_only));
          apply_edge(addr.text());
          bound.push_back(addr.tls ? "https" + url.substr(4) : url);
        }
      }
    } catch (const std::exception& e) {
      return std::string("cannot listen: ") + e.what();
    }
    return {};
  }

  std::string open_listeners() {
    if (auto error = bind_listeners(); !error.empty()) return error;
    edge->start();  // SIGUSR2 and the maintenance file poll
    listener->start();
    return {};
  }

  // `in_flight_deadline`: the end of http.shutdown_timeout. A response
  // may be out while its app still works (background tasks after the
  // response, on_complete hooks): that scope runs on until the deadline,
  // as under uvicorn; workers with nothing running stop at once.
  void stop_pools(workers::Pool::Clock::time_point in_flight_deadline, std::function<void()> done) {
    auto left = std::make_shared<std::size_t>(pools.size());
    auto finish = [this, left, done = std::move(done)] {
      if (--*left != 0) return;
      phase = Phase::stopped;
      done();
    };
    for (auto& pool : pools) pool->stop(in_flight_deadline, finish);
  }

  void reload(GatewayConfig next) {
    if (phase != Phase::running) {
      spdlog::warn("reload ignored: the gateway is not running yet");
      return;
    }
    // What a running gateway cannot change is reported, not silently ignored.
    if (listen_text(next) != listen_text(config)) {
      spdlog::warn("reload: listen changed ({}-> {}): needs a restart; keeping the old listeners", listen_text(config),
                   listen_text(next));
    }
    if (pool_names(next) != pool_names(config)) {
      spdlog::warn("reload: the set of pools changed: needs a restart; reloading the pools that exist");
    }
    bool routes_changed = next.routes.size() != config.routes.size();
    for (std::size_t i = 0; !routes_changed && i < next.routes.size(); ++i) {
      routes_changed = next.routes[i].prefix != config.routes[i].prefix || next.routes[i].pool != config.routes[i].pool;
    }
    if (routes_changed) spdlog::warn("reload: routes changed: needs a restart; keeping the old routes");
    // Certificates are re-read from the same files; a bad one keeps the old.
    const auto tls_errors = listener->reload_tls();
    for (const auto& e : tls_errors) spdlog::error("reload: TLS certificate not reloaded, the old one stays: {}", e);
    const bool has_tls =
        std::any_of(config.listen.begin(), config.listen.end(), [](const auto& l) { return l.tls.has_value(); });
    if (tls_errors.empty() && has_tls) spdlog::info("reload: TLS certificates re-read");
    // Edge rules apply to the routes and pools that run.
    GatewayConfig edge_config = next;
    edge_config.routes = config.routes;
    edge_config.pools = config.pools;
    edge->reload(edge_config);
    if (next.log_level != config.log_level) {
      spdlog::set_level(spdlog::level::from_str(next.log_level));
      spdlog::info("reload: log level {}", next.log_level);
    }
    for (const auto& settings : next.pools) {
      for (std::size_t i = 0; i < pools.size(); ++i) {
        if (config.pools[i].name != settings.name) continue;
        config.pools[i] = settings;
        const std::string name = settings.name;
        pools[i]->reload(effective_pool_settings(settings, config.http), [name](const workers::PoolReloadResult& r) {
          if (r.ok)
            spdlog::info("reload: pool {} now runs the new generation", name);
          else
            spdlog::error("reload: pool {} kept its old workers: {}", name, r.message);
        });
      }
    }
  }
};

Gateway::Gateway(boost::asio::io_context& io, GatewayConfig config)
    : impl_(std::make_unique<Impl>(io, std::move(config))) {}

Gateway::~Gateway() = default;

void Gateway::start(std::function<void(const std::string&)> done) {
  impl_->phase = Impl::Phase::starting;
  auto shared_done = std::make_shared<std::function<void(const std::string&)>>(std::move(done));
  for (auto& pool : impl_->pools) {
    const std::string name = pool->settings().name;
    pool->start([this, shared_done, name](const workers::PoolStartResult& result) {
      if (impl_->phase != Impl::Phase::starting || impl_->start_failed) return;  // stopped meanwhile
      if (!result.ok) {
        impl_->start_failed = true;
        (*shared_done)(result.message.empty() ? "pool " + name + " failed to start" : result.message);
        return;
      }
      if (++impl_->pools_started < impl_->pools.size()) return;
      std::string error = impl_->open_listeners();
      impl_->phase = Impl::Phase::running;
      (*shared_done)(error);
    });
  }
}

void Gateway::stop(std::function<void()> done) {
  auto& impl = *impl_;
  if (impl.phase == Impl::Phase::stopping || impl.phase == Impl::Phase::stopped) return;
  impl.phase = Impl::Phase::stopping;
  impl.edge->stop();
  const auto in_flight_deadline =
      workers::Pool::Clock::now() +
      std::chrono::duration_cast<workers::Pool::Clock::duration>(impl.config.http.shutdown_timeout);
  auto finished = std::make_shared<bool>(false);
  auto stop_pools_once = [this, finished, in_flight_deadline, done = std::move(done)]() mutable {
    if (*finished) return;
    *finished = true;
    impl_->shutdown_timer.cancel();
    impl_->stop_pools(in_flight_deadline, std::move(done));
  };
  // Phase one: no new connections, idle ones closed, busy ones finish.
  impl.listener->shutdown(stop_pools_once);
  // Phase two: past the deadline whatever is left is closed hard.
  impl.shutdown_timer.expires_after(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(impl.config.http.shutdown_timeout));
  impl.shutdown_timer.async_wait([this, stop_pools_once](boost::system::error_code ec) mutable {
    if (ec) return;
    spdlog::warn("shutdown timeout reached: closing {} connection(s)", impl_->listener->connection_count());
    impl_->listener->close_all();
    stop_pools_once();
  });
}

void Gateway::stop_now() {
  impl_->phase = Impl::Phase::stopped;
  impl_->shutdown_timer.cancel();
  impl_->edge->stop();
  impl_->listener->close_all();
  for (auto& pool : impl_->pools) pool->kill_all();
}

void Gateway::reload(GatewayConfig config) { impl_->reload(std::move(config)); }

void Gateway::resize(int delta) {
  if (impl_->phase != Impl::Phase::running) return;
  for (auto& pool : impl_->pools) pool->resize(delta);
}

const std::vector<std::string>& Gateway::bound_addresses() const { return impl_->bound; }

// ---- operations hooks (gateway/ops_runtime.cpp) ----

void Gateway::adopt_listen_fds(std::vector<int> fds) { impl_->inherited_fds = std::move(fds); }

std::string Gateway::bind_listeners() { return impl_->bind_listeners(); }

void Gateway::set_observer(observability::ExchangeObserver* observer) { impl_->listener->set_observer(observer); }

bool Gateway::running() const { return impl_->phase == Impl::Phase::running; }

edge::Maintenance& Gateway::maintenance() { return impl_->edge->maintenance(); }

std::vector<workers::Pool*> Gateway::pools() const {
  std::vector<workers::Pool*> out;
  for (const auto& pool : impl_->pools) out.push_back(pool.get());
  return out;
}

}  // namespace pagi::gateway
