// EdgeRuntime and its per-listener EdgeOpener (see edge_runtime.hpp).
#include <cmath>
#include <list>
#include <map>

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "gateway/edge/edge_rules.hpp"
#include "gateway/edge/edge_runtime.hpp"
#include "gateway/edge/forwarded.hpp"
#include "gateway/edge/local_answer.hpp"
#include "gateway/edge/sendfile_filter.hpp"
#include "gateway/edge/static_files.hpp"

namespace pagi::gateway::edge {
namespace {

std::string_view header_value(std::span<const workers::HeaderView> headers, std::string_view name) {
  for (const auto& h : headers)
    if (h.name == name) return h.value;
  return {};
}

bool wants_json(std::string_view accept) {
  const auto json = accept.find("json");
  const auto html = accept.find("text/html");
  return json != std::string_view::npos && (html == std::string_view::npos || json < html);
}

}  // namespace

struct EdgeRuntime::Shared {
  Shared(boost::asio::io_context& io_, const GatewayConfig& config)
      : io(io_), rules(std::make_unique<EdgeRules>(config, nullptr)), maintenance(config.edge.maintenance) {
    maintenance.set_stream_closer([this](std::string_view pool) { return close_streams(pool); });
  }

  // An open WebSocket or SSE stream that maintenance may close.
  struct OpenStream {
    std::weak_ptr<workers::Downstream> downstream;
    std::string pool;
  };

  void track_stream(std::weak_ptr<workers::Downstream> downstream, std::string_view pool) {
    // Forget the ended ones now and then: the list stays about as long as
    // the number of streams open.
    if (streams.size() >= 2 * streams_after_prune + 16) {
      std::erase_if(streams, [](const OpenStream& s) { return s.downstream.expired(); });
      streams_after_prune = streams.size();
    }
    streams.push_back({std::move(downstream), std::string(pool)});
  }

  std::size_t close_streams(std::string_view pool) {
    // Collected first: closing one may run code that opens or ends others.
    std::vector<std::shared_ptr<workers::Downstream>> doomed;
    for (const auto& s : streams)
      if (pool.empty() || s.pool == pool)
        if (auto ds = s.downstream.lock()) doomed.push_back(std::move(ds));
    std::erase_if(streams,
                  [&](const OpenStream& s) { return s.downstream.expired() || pool.empty() || s.pool == pool; });
    streams_after_prune = streams.size();
    for (const auto& ds : doomed) ds->on_server_close(false);
    return doomed.size();
  }

  boost::asio::io_context& io;
  std::unique_ptr<EdgeRules> rules;  // swapped by reload()
  std::uint64_t generation = 1;      // counts the swaps (an address may be reused)
  Maintenance maintenance;
  std::vector<std::string_view> params;  // scratch
  std::list<std::unique_ptr<workers::ScopeOpener>> openers;
  std::vector<OpenStream> streams;
  std::size_t streams_after_prune = 0;
};

namespace {

class EdgeOpener final : public workers::ScopeOpener {
 public:
  EdgeOpener(EdgeRuntime::Shared& shared, std::string listen_text, workers::ScopeOpener& inner)
      : s_(shared), listen_text_(std::move(listen_text)), inner_(inner) {}

  bool supports(const workers::ScopeRequest& request) override { return inner_.supports(request); }
  std::size_t open_body_window(const workers::ScopeRequest& request) override {
    return inner_.open_body_window(request);
  }

  std::unique_ptr<workers::Upstream> open_scope(const workers::ScopeRequest& original,
                                                std::weak_ptr<workers::Downstream> downstream) override {
    const EdgeRules& rules = *s_.rules;
    if (generation_ != s_.generation) {  // first scope, or the config was reloaded
      generation_ = s_.generation;
      listener_access_ = rules.listener_policy(listen_text_);
    }
    const EdgeSettings& settings = *rules.settings;
    const workers::ScopeRequest& request = resolve(rules, original);
    // Parsed on first use: most scopes meet no access rule or maintenance.
    std::optional<std::optional<IpAddress>> parsed_client;
    const auto client = [&]() -> const std::optional<IpAddress>& {
      if (!parsed_client) parsed_client.emplace(parse_ip(request.client_host));
      return *parsed_client;
    };

    // Route only when something asks for it.
    std::size_t route = 0;
    const bool need_route = rules.route_prefix.size() > 1;
    if (need_route) route = rules.route_of(request.path, s_.params);

    // Access: the route's rules, else the listener's, else the global ones.
    const CompiledAccess* access = rules.route_access[route] ? rules.route_access[route].get() : listener_access_;
    if (access && access->verdict(client()) == Verdict::deny)
      return answer_locally(s_.io, plain_answer(403, "Forbidden"), std::move(downstream), "edge:access");

    if (auto limited = rate_limit(rules, request, route))
      return answer_locally(s_.io, std::move(*limited), std::move(downstream), "edge:rate_limit");

    if (!settings.static_mounts.empty() && request.type != wire::ScopeType::WEBSOCKET) {
      if (const StaticMount* mount = find_mount(settings.static_mounts, request.path)) {
        if (mount->internal)
          return answer_locally(s_.io, plain_answer(404, "Not Found"), std::move(downstream), "edge:static");
        StaticRequest r{request.method, request.path, request.raw_path, request.query_string, request.headers};
        return answer_locally(s_.io, serve_static(*mount, r), std::move(downstream), "edge:static");
      }
    }

    const std::string_view pool = rules.route_pool[route];
    const bool stream = request.type != wire::ScopeType::HTTP;
    bool spared = false;
    if (s_.maintenance.active_for(pool)) {
      spared = maintenance_spares(request, client());
      if (!spared) return answer_locally(s_.io, maintenance_answer(request), std::move(downstream), "edge:maintenance");
    } else if (stream) {
      spared = maintenance_spares(request, client());
    }

    if (request.type == wire::ScopeType::HTTP && (!settings.sendfile_roots.empty() || settings.accel_redirect))
      return open_with_sendfile_filter(s_.io, rules.settings, request, inner_, std::move(downstream));
    // Long-lived streams are remembered, for maintenance that closes them.
    if (stream && !spared) s_.track_stream(downstream, pool);
    return inner_.open_scope(request, std::move(downstream));
  }

 private:
  // Client and scheme behind trusted proxies. The views of the returned
  // request live in this opener until the next call.
  const workers::ScopeRequest& resolve(const EdgeRules& rules, const workers::ScopeRequest& original) {
    if (rules.trusted.empty()) return original;
    auto id = resolve_client(original.client_host, original.client_port, original.headers, rules.trusted,
                             rules.settings->max_forwarded_hops);
    if (!id.from_proxy) return original;
    scope_ = original;
    // The TCP peer (the proxy) stays visible as pagi.peer, unless a PROXY
    // header already replaced the client: then the socket's peer is kept.
    if (scope_.peer_host.empty()) {
      scope_.peer_host = original.client_host;
      scope_.peer_port = original.client_port;
    }
    client_host_ = std::move(id.host);
    scope_.client_host = client_host_;
    scope_.client_port = id.port;
    if (!id.scheme.empty()) {
      const bool secure = id.scheme == "https";
      scope_.scheme =
          original.type == wire::ScopeType::WEBSOCKET ? (secure ? "wss" : "ws") : (secure ? "https" : "http");
    }
    if (!id.forwarded_host.empty()) {
      forwarded_host_ = std::move(id.forwarded_host);
      headers_.assign(original.headers.begin(), original.headers.end());
      bool replaced = false;
      for (auto& h : headers_)
        if (h.name == "host") h.value = forwarded_host_, replaced = true;
      if (!replaced) headers_.push_back({"host", forwarded_host_});
      scope_.headers = headers_;
    }
    return scope_;
  }

  std::optional<FileAnswer> rate_limit(const EdgeRules& rules, const workers::ScopeRequest& request,
                                       std::size_t route) {
    if (rules.limiters.empty()) return std::nullopt;
    const auto now = RateLimiter::Clock::now();
    keys_.clear();
    const RateLimiter* denied = nullptr;
    RateLimiter::Decision worst;
    for (const auto& limiter : rules.limiters) {
      const auto& cfg = limiter->settings();
      std::string_view key;
      if (!request.path.starts_with(cfg.path_prefix)) {
        keys_.emplace_back();
        continue;
      }
      switch (cfg.key) {
        case RateKey::client: key = request.client_host; break;
        case RateKey::header: key = header_value(request.headers, cfg.header); break;
        case RateKey::route: key = rules.route_prefix[route]; break;
      }
      // No header, no bucket: that limit does not apply to this request.
      if (cfg.key == RateKey::header && key.empty()) {
        keys_.emplace_back();
        continue;
      }
      keys_.emplace_back(key.empty() ? std::string_view("-") : key);
      const auto d = limiter->check(keys_.back(), now);
      if (!d.allowed && (!denied || d.retry_after > worst.retry_after)) denied = limiter.get(), worst = d;
    }
    if (!denied) {
      // Every limit passed: each takes its token (a refused request takes none).
      for (std::size_t i = 0; i < rules.limiters.size(); ++i)
        if (!keys_[i].empty()) rules.limiters[i]->commit(keys_[i]);
      return std::nullopt;
    }
    const auto& cfg = denied->settings();
    const auto retry = static_cast<long long>(std::max(1.0, std::ceil(worst.retry_after)));
    const auto window = static_cast<long long>(std::max(1.0, std::ceil(cfg.burst / cfg.rate)));
    auto a = plain_answer(429, "Too Many Requests");
    a.headers.emplace_back("retry-after", std::to_string(retry));
    a.headers.emplace_back("ratelimit-limit", std::to_string(static_cast<long long>(cfg.burst)));
    a.headers.emplace_back("ratelimit-remaining", "0");
    a.headers.emplace_back("ratelimit-reset", std::to_string(retry));
    a.headers.emplace_back("ratelimit-policy", std::to_string(static_cast<long long>(cfg.burst)) +
                                                   ";w=" + std::to_string(window) + ";name=\"" + cfg.name + "\"");
    return a;
  }

  // Bypass clients and exempt paths are served during maintenance (and
  // their streams never closed by it).
  bool maintenance_spares(const workers::ScopeRequest& request, const std::optional<IpAddress>& client) const {
    if (s_.maintenance.exempt(request.path)) return true;
    return client && s_.maintenance.bypass().contains(*client);
  }

  FileAnswer maintenance_answer(const workers::ScopeRequest& request) {
    const auto& m = s_.maintenance.settings();
    FileAnswer a;
    a.status = 503;
    const bool json = wants_json(header_value(request.headers, "accept"));
    a.body = json ? m.json_body : m.html_body;
    a.headers.emplace_back("content-type", json ? "application/json" : "text/html; charset=utf-8");
    a.headers.emplace_back("content-length", std::to_string(a.body.size()));
    a.headers.emplace_back("retry-after", std::to_string(m.retry_after));
    a.headers.emplace_back("cache-control", "no-store");
    return a;
  }

  EdgeRuntime::Shared& s_;
  const std::string listen_text_;
  workers::ScopeOpener& inner_;
  std::uint64_t generation_ = 0;  // of the rules listener_access_ was looked up in
  const CompiledAccess* listener_access_ = nullptr;
  workers::ScopeRequest scope_;
  std::string client_host_;
  std::string forwarded_host_;
  std::vector<workers::HeaderView> headers_;
  std::vector<std::string_view> keys_;
};

}  // namespace

EdgeRuntime::EdgeRuntime(boost::asio::io_context& io, const GatewayConfig& config)
    : shared_(std::make_unique<Shared>(io, config)) {}

EdgeRuntime::~EdgeRuntime() { stop(); }

void EdgeRuntime::start() { shared_->maintenance.start(shared_->io); }
void EdgeRuntime::stop() { shared_->maintenance.stop(); }

workers::ScopeOpener& EdgeRuntime::opener_for(const std::string& listen_text, workers::ScopeOpener& inner) {
  shared_->openers.push_back(std::make_unique<EdgeOpener>(*shared_, listen_text, inner));
  return *shared_->openers.back();
}

void EdgeRuntime::reload(const GatewayConfig& config) {
  auto& s = *shared_;
  // The PROXY header is read by the listener as it was bound.
  auto proxied = [](const EdgeSettings& e, const std::string& address) {
    for (const auto& l : e.listeners)
      if (l.address == address) return l.proxy_protocol;
    return false;
  };
  std::vector<std::string> addresses;
  for (const auto* e : {s.rules->settings.get(), &config.edge})
    for (const auto& l : e->listeners) addresses.push_back(l.address);
  for (const auto& a : addresses)
    if (proxied(*s.rules->settings, a) != proxied(config.edge, a))
      spdlog::warn("reload: listeners.\"{}\".proxy_protocol changed: needs a restart; kept as it was", a);
  s.rules = std::make_unique<EdgeRules>(config, s.rules.get());
  ++s.generation;
  s.maintenance.update(config.edge.maintenance);
  spdlog::info("reload: edge rules replaced ({} rate limit(s); unchanged limits keep their buckets)",
               s.rules->limiters.size());
}

bool EdgeRuntime::proxy_protocol(const std::string& listen_text) const {
  for (const auto& l : shared_->rules->settings->listeners)
    if (l.address == listen_text) return l.proxy_protocol;
  return false;
}

bool EdgeRuntime::closes_connections(const std::string& listen_text) const {
  const auto* access = shared_->rules->listener_policy(listen_text);
  return access && access->policy.action == DenyAction::close;
}

bool EdgeRuntime::admit_connection(const std::string& listen_text, std::string_view peer_host) const {
  const auto* access = shared_->rules->listener_policy(listen_text);
  if (!access || access->policy.action != DenyAction::close) return true;
  return access->verdict(parse_ip(peer_host)) == Verdict::allow;
}

Maintenance& EdgeRuntime::maintenance() { return shared_->maintenance; }

}  // namespace pagi::gateway::edge
