#include "gateway/edge/edge_rules.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace pagi::gateway::edge {
namespace {

std::string normal_prefix(std::string prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return prefix;
}

}  // namespace

CompiledAccess::CompiledAccess(const AccessPolicy& p) : policy(p) {
  for (const auto& r : p.rules) trie.add(r.prefix);
}

Verdict CompiledAccess::verdict(const std::optional<IpAddress>& client) const {
  // A client without an address (a Unix socket peer) matches no rule.
  if (!client) return policy.default_verdict;
  const auto i = trie.first_match(*client);
  return i == PrefixTrie::no_match ? policy.default_verdict : policy.rules[i].verdict;
}

EdgeRules::EdgeRules(const GatewayConfig& config, EdgeRules* previous)
    : settings(std::make_shared<const EdgeSettings>(config.edge)), trusted(config.edge.trusted_proxies) {
  const EdgeSettings& s = *settings;
  if (s.access.configured) global_access = std::make_unique<CompiledAccess>(s.access);
  for (const auto& l : s.listeners)
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
    const auto it = s.route_access.find(route_prefix[i]);
    const AccessPolicy* p = it != s.route_access.end() ? &it->second : nullptr;
    if (!p && route_prefix[i] != "/") {
      // route_access keys may carry a trailing '/'.
      for (const auto& [k, v] : s.route_access)
        if (normal_prefix(k) == route_prefix[i]) p = &v;
    }
    route_access.push_back(p ? std::make_unique<CompiledAccess>(*p) : nullptr);
  }
  // Only after a reload that added routes (they need a restart): say that
  // these rules are not in force, rather than drop them quietly.
  for (const auto& [k, v] : s.route_access)
    if (std::find(route_prefix.begin(), route_prefix.end(), normal_prefix(k)) == route_prefix.end())
      spdlog::warn("route_access.\"{}\": no such route is running (routes need a restart); not applied", k);
  for (const auto& r : s.rate_limits) {
    std::shared_ptr<RateLimiter> kept;
    if (previous)
      for (const auto& old : previous->limiters)
        if (old->settings() == r) kept = old;
    limiters.push_back(kept ? kept : std::make_shared<RateLimiter>(r));
  }
}

std::size_t EdgeRules::route_of(std::string_view path, std::vector<std::string_view>& params) const {
  params.clear();
  const auto m = routes.match(path, params);
  return m ? m->pool : route_prefix.size() - 1;
}

const CompiledAccess* EdgeRules::listener_policy(const std::string& listen_text) const {
  const auto it = listener_access.find(listen_text);
  if (it != listener_access.end()) return it->second.get();
  return global_access.get();
}

}  // namespace pagi::gateway::edge
