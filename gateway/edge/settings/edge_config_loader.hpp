// The edge sections of the YAML config (docs/edge.md): `trusted_proxies`,
// `access`, `route_access`, `listeners`, `rate_limits`, `maintenance`,
// `static`, `sendfile`. The main loader (gateway/config/load_config.cpp)
// hands each of these top-level keys here; every error goes to `error` with
// the YAML mark, so it reaches the user as file:line:column like any other
// config error. Addresses become Cidrs here: nothing malformed gets through.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "gateway/edge/settings/edge_settings.hpp"

namespace pagi::gateway::edge {

using EdgeErrorSink = std::function<void(const YAML::Mark& mark, const std::string& path, const std::string& message)>;

// The top-level keys this module reads.
const std::vector<std::string_view>& edge_key_names();
bool is_edge_key(std::string_view name);

void load_edge_key(std::string_view name, const YAML::Node& key, const YAML::Node& value,
                   const std::filesystem::path& base_dir, EdgeSettings& out, const EdgeErrorSink& error);

// Checks that need the rest of the config: every `listeners` entry names an
// address of `listen`, every `route_access` prefix a route, every
// maintenance pool a pool. Returns "" or the first problem.
std::string check_edge_references(const EdgeSettings& edge, const std::vector<std::string>& listen_texts,
                                  const std::vector<std::string>& route_prefixes,
                                  const std::vector<std::string>& pool_names);

}  // namespace pagi::gateway::edge
