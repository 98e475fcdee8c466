// EdgeRuntime and its per-listener EdgeOpener (see edge_runtime.hpp).
#include "gateway/edge/edge_runtime.hpp"

#include <cmath>
#include <list>
#include <map>

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "gateway/config/route_table.hpp"
#include "gateway/edge/forwarded.hpp"
#include "gateway/edge/local_answer.hpp"
#include "gateway/edge/rate_limiter.hpp"
#include "gateway/edge/sendfile_filter.hpp"
#include "gateway/edge/static_files.hpp"

namespace pagi::gateway::edge {
namespace {

std::string normal_prefix(std::string prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return prefix;
}

// An access policy compiled for lookups: the rules' prefixes in a trie.
struct CompiledAccess {
  explicit CompiledAccess(const AccessPolicy& p) : policy(p) {
    for (const auto& r : p.rules) trie.add(r.prefix);
  }
  Verdict verdict(const std::optional<IpAddress>& client) const {
    // A client without an address (a Unix socket peer) matches no rule.
    if (!client) return policy.default_verdict;
    const auto i = trie.first_match(*client);
    return i == PrefixTrie::no_match ? policy.default_verdict : policy.rules[i].verdict;
  }
  AccessPolicy policy;
  PrefixTrie trie;
};

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
      : io(io_), settings(config.edge), trusted(config.edge.trusted_proxies), maintenance(config.edge.maintenance) {
    if (settings.access.configured) global_access = std::make_unique<CompiledAccess>(settings.access);
    for (const auto& l : settings.listeners)
      if (l.access.configured) listener_access.emplace(l.address, std::make_unique<CompiledAccess>(l.access));
    // The route index: the config's routes, each its own pseudo-pool, so
    // a match names the route (RouteTable's matching, not a copy of it).
    std::vector<RouteConfig> pseudo;
    std::vector<std::string> names;
    bool has_root = false;
    for (std::size_t i = 0; i < config.routes.size(); ++i) {
      pseudo.push_back({config.routes[i].prefix, "r" + std::to_string(i)});
      names.push_back("r" + std::to_string(i));
      route_prefix.push_back(normal_prefix(config.routes[i].prefix));
      route_pool.push_back(config.routes[i].pool);
      has_root = has_root || normal_prefix(config.routes[i].prefix) == "/";
    }
    if (!has_root) {
      pseudo.push_back({"/", "r" + std::to_string(config.routes.size())});
      names.push_back(pseudo.back().pool);
      route_prefix.push_back("/");
      route_pool.push_back(config.pools.empty() ? std::string() : config.pools.front().name);
    }
    routes = RouteTable::compile(pseudo, names);
    for (std::size_t i = 0; i < route_prefix.size(); ++i) {
      const auto it = settings.route_access.find(route_prefix[i]);
      const AccessPolicy* p = it != settings.route_access.end() ? &it->second : nullptr;
      if (!p && route_prefix[i] != "/") {
        // route_access keys may carry a trailing '/'.
        for (const auto& [k, v] : settings.route_access)
          if (normal_prefix(k) == route_prefix[i]) p = &v;
      }
      route_access.push_back(p ? std::make_unique<CompiledAccess>(*p) : nullptr);
    }
    for (const auto& r : settings.rate_limits) limiters.push_back(std::make_unique<RateLimiter>(r));
  }

  std::size_t route_of(std::string_view path) {
    params.clear();
    const auto m = routes.match(path, params);
    return m ? m->pool : route_prefix.size() - 1;
  }

  const CompiledAccess* listener_policy(const std::string& listen_text) const {
    const auto it = listener_access.find(listen_text);
    if (it != listener_access.end()) return it->second.get();
    return global_access.get();
  }

  boost::asio::io_context& io;
  EdgeSettings settings;
  CidrSet trusted;
  Maintenance maintenance;
  std::unique_ptr<CompiledAccess> global_access;
  std::map<std::string, std::unique_ptr<CompiledAccess>> listener_access;
  RouteTable routes;
  std::vector<std::string> route_prefix;  // by route index
  std::vector<std::string> route_pool;
  std::vector<std::unique_ptr<CompiledAccess>> route_access;  // null: no route rule
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  std::vector<std::string_view> params;  // scratch
  std::list<std::unique_ptr<workers::ScopeOpener>> openers;
};

namespace {

class EdgeOpener final : public workers::ScopeOpener {
 public:
  EdgeOpener(EdgeRuntime::Shared& shared, const CompiledAccess* listener_access, workers::ScopeOpener& inner)
      : s_(shared), listener_access_(listener_access), inner_(inner) {}

  bool supports(const workers::ScopeRequest& request) override { return inner_.supports(request); }

  std::unique_ptr<workers::Upstream> open_scope(const workers::ScopeRequest& original,
                                                std::weak_ptr<workers::Downstream> downstream) override {
    const workers::ScopeRequest& request = resolve(original);
    const auto client = parse_ip(request.client_host);

    // Route only when something asks for it.
    std::size_t route = 0;
    const bool need_route = s_.route_prefix.size() > 1;
    if (need_route) route = s_.route_of(request.path);

    // Access: the route's rules, else the listener's, else the global ones.
    const CompiledAccess* access = s_.route_access[route] ? s_.route_access[route].get() : listener_access_;
    if (access && access->verdict(client) == Verdict::deny)
      return answer_locally(s_.io, plain_answer(403, "Forbidden"), std::move(downstream), "edge:access");

    if (auto limited = rate_limit(request, client, route)) return answer_locally(s_.io, std::move(*limited), std::move(downstream), "edge:rate_limit");

    if (!s_.settings.static_mounts.empty() && request.type != wire::ScopeType::WEBSOCKET) {
      if (const StaticMount* mount = find_mount(s_.settings.static_mounts, request.path)) {
        if (mount->internal) return answer_locally(s_.io, plain_answer(404, "Not Found"), std::move(downstream), "edge:static");
        StaticRequest r{request.method, request.path, request.raw_path, request.query_string, request.headers};
        return answer_locally(s_.io, serve_static(*mount, r), std::move(downstream), "edge:static");
      }
    }

    if (in_maintenance(request, client, s_.route_pool[route]))
      return answer_locally(s_.io, maintenance_answer(request), std::move(downstream), "edge:maintenance");

    if (request.type == wire::ScopeType::HTTP && (!s_.settings.sendfile_roots.empty() || s_.settings.accel_redirect))
      return open_with_sendfile_filter(s_.io, s_.settings, request, inner_, std::move(downstream));
    return inner_.open_scope(request, std::move(downstream));
  }

 private:
  // Client and scheme behind trusted proxies. The views of the returned
  // request live in this opener until the next call.
  const workers::ScopeRequest& resolve(const workers::ScopeRequest& original) {
    if (s_.trusted.empty()) return original;
    auto id = resolve_client(original.client_host, original.client_port, original.headers, s_.trusted,
                             s_.settings.max_forwarded_hops);
    if (!id.from_proxy) return original;
    scope_ = original;
    client_host_ = std::move(id.host);
    scope_.client_host = client_host_;
    scope_.client_port = id.port;
    if (!id.scheme.empty()) {
      const bool secure = id.scheme == "https";
      scope_.scheme = original.type == wire::ScopeType::WEBSOCKET ? (secure ? "wss" : "ws") : (secure ? "https" : "http");
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

  std::optional<FileAnswer> rate_limit(const workers::ScopeRequest& request, const std::optional<IpAddress>& client,
                                       std::size_t route) {
    if (s_.limiters.empty()) return std::nullopt;
    const auto now = RateLimiter::Clock::now();
    keys_.clear();
    const RateLimiter* denied = nullptr;
    RateLimiter::Decision worst;
    for (const auto& limiter : s_.limiters) {
      const auto& cfg = limiter->settings();
      std::string_view key;
      if (!request.path.starts_with(cfg.path_prefix)) {
        keys_.emplace_back();
        continue;
      }
      switch (cfg.key) {
        case RateKey::client: key = request.client_host; break;
        case RateKey::header: key = header_value(request.headers, cfg.header); break;
        case RateKey::route: key = s_.route_prefix[route]; break;
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
    (void)client;
    if (!denied) {
      // Every limit passed: each takes its token (a refused request takes none).
      for (std::size_t i = 0; i < s_.limiters.size(); ++i)
        if (!keys_[i].empty()) s_.limiters[i]->commit(keys_[i]);
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
    a.headers.emplace_back("ratelimit-policy", std::to_string(static_cast<long long>(cfg.burst)) + ";w=" +
                                                   std::to_string(window) + ";name=\"" + cfg.name + "\"");
    return a;
  }

  bool in_maintenance(const workers::ScopeRequest& request, const std::optional<IpAddress>& client,
                      std::string_view pool) {
    if (!s_.maintenance.active_for(pool)) return false;
    if (s_.maintenance.exempt(request.path)) return false;
    return !(client && s_.maintenance.bypass().contains(*client));
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
  const CompiledAccess* listener_access_;
  workers::ScopeOpener& inner_;
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
  shared_->openers.push_back(std::make_unique<EdgeOpener>(*shared_, shared_->listener_policy(listen_text), inner));
  return *shared_->openers.back();
}

bool EdgeRuntime::proxy_protocol(const std::string& listen_text) const {
  for (const auto& l : shared_->settings.listeners)
    if (l.address == listen_text) return l.proxy_protocol;
  return false;
}

bool EdgeRuntime::closes_connections(const std::string& listen_text) const {
  const auto* access = shared_->listener_policy(listen_text);
  return access && access->policy.action == DenyAction::close;
}

bool EdgeRuntime::admit_connection(const std::string& listen_text, std::string_view peer_host) const {
  const auto* access = shared_->listener_policy(listen_text);
  if (!access || access->policy.action != DenyAction::close) return true;
  return access->verdict(parse_ip(peer_host)) == Verdict::allow;
}

Maintenance& EdgeRuntime::maintenance() { return shared_->maintenance; }

}  // namespace pagi::gateway::edge
