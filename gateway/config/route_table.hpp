// Routes: path prefixes mapped to pools, compiled once and matched per
// request. A prefix is a list of segments; a segment written `:name` is a
// parameter that matches any one non-empty segment and whose value reaches
// the app (scope pagi.route params). Matching is by whole segments, most
// specific first: more segments first, and at the first difference a
// literal before a parameter. Sans-I/O; the Router (gateway/router.hpp)
// applies it to scopes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"

namespace pagi::gateway {

class RouteTable {
 public:
  struct Segment {
    std::string text;  // literal text, or the parameter name without ':'
    bool param = false;
  };
  struct Route {
    std::string prefix;  // as written, normalised (no trailing '/', "/" for the root)
    std::vector<Segment> segments;
    std::size_t pool = 0;  // index into the pool list given to compile()
  };
  struct Match {
    std::size_t pool = 0;
    std::size_t root_length = 0;  // bytes of the path the prefix matched: root_path
  };

  // Throws ConfigError: a prefix not starting with '/', an empty parameter
  // name, an unknown pool, two routes that match the same paths (conflict),
  // a pool no route leads to (unreachable). No routes with one pool means
  // "/" -> that pool. Several pools need a "/" route, so that every path has
  // a pool.
  static RouteTable compile(const std::vector<RouteConfig>& routes, const std::vector<std::string>& pools);

  // The route for `path` (percent-decoded), appending name, value pairs of
  // its parameters to `params` (views into the route table and `path`).
  std::optional<Match> match(std::string_view path, std::vector<std::string_view>& params) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;  // most specific first
};

}  // namespace pagi::gateway
