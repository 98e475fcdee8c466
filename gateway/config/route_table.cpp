#include "gateway/config/route_table.hpp"

#include <algorithm>

namespace pagi::gateway {
namespace {

RouteTable::Route parse_route(const RouteConfig& config) {
  const std::string& prefix = config.prefix;
  if (prefix.empty() || prefix.front() != '/') {
    throw ConfigError("routes: \"" + prefix + "\": a route prefix starts with '/'");
  }
  RouteTable::Route route;
  std::size_t pos = 1;
  while (pos <= prefix.size()) {
    std::size_t end = prefix.find('/', pos);
    if (end == std::string::npos) end = prefix.size();
    std::string_view segment(prefix.data() + pos, end - pos);
    if (segment.empty()) {
      if (end != prefix.size()) throw ConfigError("routes: \"" + prefix + "\": empty segment ('//')");
      break;  // a trailing '/' says nothing more
    }
    RouteTable::Segment s;
    if (segment.front() == ':') {
      s.param = true;
      s.text = std::string(segment.substr(1));
      if (s.text.empty()) throw ConfigError("routes: \"" + prefix + "\": a parameter needs a name (:name)");
    } else {
      s.text = std::string(segment);
    }
    route.segments.push_back(std::move(s));
    pos = end + 1;
  }
  route.prefix = "";
  for (const auto& s : route.segments) route.prefix += "/" + std::string(s.param ? ":" : "") + s.text;
  if (route.prefix.empty()) route.prefix = "/";
  return route;
}

// Same shape: every path one matches, the other matches too.
bool same_shape(const RouteTable::Route& a, const RouteTable::Route& b) {
  if (a.segments.size() != b.segments.size()) return false;
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    const auto& x = a.segments[i];
    const auto& y = b.segments[i];
    if (x.param != y.param || (!x.param && x.text != y.text)) return false;
  }
  return true;
}

bool more_specific(const RouteTable::Route& a, const RouteTable::Route& b) {
  if (a.segments.size() != b.segments.size()) return a.segments.size() > b.segments.size();
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].param != b.segments[i].param) return !a.segments[i].param;
  }
  return a.prefix < b.prefix;
}

}  // namespace

RouteTable RouteTable::compile(const std::vector<RouteConfig>& routes, const std::vector<std::string>& pools) {
  RouteTable table;
  std::vector<RouteConfig> effective = routes;
  if (effective.empty()) {
    if (pools.size() == 1)
      effective.push_back({"/", pools.front()});
    else if (pools.size() > 1)
      throw ConfigError("routes: several pools need routes (routes: {\"/\": <pool>, ...})");
  }
  std::vector<bool> reached(pools.size(), false);
  for (const auto& config : effective) {
    Route route = parse_route(config);
    auto it = std::find(pools.begin(), pools.end(), config.pool);
    if (it == pools.end()) {
      throw ConfigError("routes: \"" + config.prefix + "\": no pool named \"" + config.pool + "\"");
    }
    route.pool = static_cast<std::size_t>(it - pools.begin());
    reached[route.pool] = true;
    for (const auto& earlier : table.routes_) {
      if (!same_shape(earlier, route)) continue;
      throw ConfigError("routes: \"" + config.prefix + "\" conflicts with \"" + earlier.prefix +
                        "\": both match the same paths");
    }
    for (const auto& s : route.segments) {
      if (!s.param) continue;
      if (std::count_if(route.segments.begin(), route.segments.end(),
                        [&](const Segment& o) { return o.param && o.text == s.text; }) > 1) {
        throw ConfigError("routes: \"" + config.prefix + "\": parameter :" + s.text + " appears twice");
      }
    }
    table.routes_.push_back(std::move(route));
  }
  for (std::size_t i = 0; i < pools.size(); ++i) {
    if (!reached[i]) throw ConfigError("routes: pool \"" + pools[i] + "\" is unreachable: no route leads to it");
  }
  if (!table.routes_.empty() &&
      std::none_of(table.routes_.begin(), table.routes_.end(), [](const Route& r) { return r.segments.empty(); })) {
    throw ConfigError("routes: no route for \"/\": every path needs a pool (add \"/\": <pool>)");
  }
  std::sort(table.routes_.begin(), table.routes_.end(), more_specific);
  return table;
}

std::optional<RouteTable::Match> RouteTable::match(std::string_view path, std::vector<std::string_view>& params) const {
  const std::size_t params_before = params.size();
  for (const auto& route : routes_) {
    params.resize(params_before);
    std::size_t pos = 0;
    bool ok = true;
    for (const auto& segment : route.segments) {
      if (pos >= path.size() || path[pos] != '/') {
        ok = false;
        break;
      }
      std::size_t end = path.find('/', pos + 1);
      if (end == std::string_view::npos) end = path.size();
      const std::string_view text = path.substr(pos + 1, end - pos - 1);
      if (segment.param ? text.empty() : text != segment.text) {
        ok = false;
        break;
      }
      if (segment.param) {
        params.push_back(segment.text);
        params.push_back(text);
      }
      pos = end;
    }
    if (ok) return Match{route.pool, pos};
  }
  params.resize(params_before);
  return std::nullopt;
}

}  // namespace pagi::gateway
