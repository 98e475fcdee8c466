// The edge rules of one config, compiled for per-scope lookups: access
// tries (global, per listener, per route), the route index, the rate
// limiters. EdgeRuntime holds the current one and swaps in a new one on a
// config reload; a scope in flight keeps what it was given (the settings
// are shared, so an X-Sendfile filter outlives a swap safely).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/config/route_table.hpp"
#include "gateway/edge/rate_limiter.hpp"
#include "gateway/edge/settings/edge_settings.hpp"

namespace pagi::gateway::edge {

// An access policy compiled for lookups: the rules' prefixes in a trie.
struct CompiledAccess {
  explicit CompiledAccess(const AccessPolicy& p);
  Verdict verdict(const std::optional<IpAddress>& client) const;
  AccessPolicy policy;
  PrefixTrie trie;
};

struct EdgeRules {
  // `config`: the edge settings to apply, with the routes and pools that
  // run (a reload cannot change those). Rate limiters whose settings are
  // unchanged in `previous` are taken over with their buckets.
  EdgeRules(const GatewayConfig& config, EdgeRules* previous);

  // The route index of `path` (the fallback "/" route when none matches).
  std::size_t route_of(std::string_view path, std::vector<std::string_view>& params) const;
  // The listener's own rules, else the global ones; null: none.
  const CompiledAccess* listener_policy(const std::string& listen_text) const;

  std::shared_ptr<const EdgeSettings> settings;  // shared with X-Sendfile filters in flight
  CidrSet trusted;
  std::unique_ptr<CompiledAccess> global_access;
  std::map<std::string, std::unique_ptr<CompiledAccess>> listener_access;
  RouteTable routes;
  std::vector<std::string> route_prefix;  // by route index
  std::vector<std::string> route_pool;
  std::vector<std::unique_ptr<CompiledAccess>> route_access;  // null: no route rule
  std::vector<std::shared_ptr<RateLimiter>> limiters;
};

}  // namespace pagi::gateway::edge
