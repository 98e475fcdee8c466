#include "gateway/config/load_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "gateway/config/app_kind.hpp"
#include "gateway/config/key_schema.hpp"
#include "gateway/config/route_table.hpp"
#include "gateway/edge/settings/edge_config_loader.hpp"

namespace pagi::gateway {
namespace {

namespace fs = std::filesystem;
using workers::PoolSettings;

// A file with hundreds of mistakes is better told about the first few.
constexpr std::size_t max_reported_errors = 20;

class ErrorList {
 public:
  explicit ErrorList(std::string source) : source_(std::move(source)) {}

  void add(const YAML::Mark& mark, const std::string& path, const std::string& message) {
    std::string line = source_;
    if (!mark.is_null()) line += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    line += ": ";
    if (!path.empty()) line += path + ": ";
    lines_.push_back(line + message);
  }

  void throw_if_any() const {
    if (lines_.empty()) return;
    std::string message;
    for (std::size_t i = 0; i < lines_.size() && i < max_reported_errors; ++i) {
      if (i) message += "\n";
      message += lines_[i];
    }
    if (lines_.size() > max_reported_errors) {
      message += "\n(" + std::to_string(lines_.size() - max_reported_errors) + " more errors)";
    }
    throw ConfigError(message);
  }

 private:
  std::string source_;
  std::vector<std::string> lines_;
};

std::string shape_of(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  if (node.IsNull()) return "nothing";
  return "\"" + node.Scalar() + "\"";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(KeyLevel level, std::string_view name) {
  std::vector<std::string_view> known;
  for (const auto& key : config_keys()) {
    if (key.level == level) known.push_back(key.name);
  }
  if (level == KeyLevel::top) {
    known.push_back("http");
    known.push_back("pools");
    known.push_back("routes");
    known.push_back("access_log");
    known.push_back("admin");
    for (auto edge_key : edge::edge_key_names()) known.push_back(edge_key);
  }
  std::string message = "unknown key";
  std::string_view best;
  std::size_t best_distance = 3;  // suggest only near misses
  for (auto candidate : known) {
    std::size_t distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best.empty()) message += " (did you mean \"" + std::string(best) + "\"?)";
  return message;
}

// argv and environment strings end at a NUL; line breaks are fine there.
bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

// Block maps and lists in flow style, nested ones too (a node keeps the
// style it was parsed with, which the emitter honours).
void flow_style(YAML::Node node) {
  if (node.IsMap() || node.IsSequence()) node.SetStyle(YAML::EmitterStyle::Flow);
  if (node.IsMap())
    for (auto it = node.begin(); it != node.end(); ++it) flow_style(it->second);
  else if (node.IsSequence())
    for (auto child : node) flow_style(child);
}

// Turns a YAML node into a value of the key's type, or throws KeyValueError.
KeyValue node_value(const KeyDef& key, const YAML::Node& node) {
  auto wrong_shape = [&] { return KeyValueError("expected " + expected_text(key) + ", got " + shape_of(node)); };
  switch (key.type) {
    case KeyType::string_list:
    case KeyType::listen_list: {
      if (key.type == KeyType::listen_list && node.IsScalar()) return parse_scalar(key, node.Scalar());
      if (!node.IsSequence()) throw wrong_shape();
      std::vector<std::string> items;
      for (const auto& item : node) {
        // A listen entry may be a map ({address, tls, h2c}): it travels as
        // flow YAML text to the key's setter (parse_listen_entry).
        if (key.type == KeyType::listen_list && item.IsMap()) {
          YAML::Node copy = YAML::Clone(item);
          flow_style(copy);
          YAML::Emitter flow;
          flow << copy;
          items.push_back(flow.c_str());
          continue;
        }
        if (!item.IsScalar())
          throw KeyValueError("expected " + expected_text(key) + ", got " + shape_of(item) + " in the list");
        if (has_nul(item.Scalar())) throw KeyValueError("list items cannot hold NUL bytes");
        items.push_back(item.Scalar());
      }
      return items;
    }
    case KeyType::string_map: {
      if (!node.IsMap()) throw wrong_shape();
      std::map<std::string, std::string> items;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar() || !it->second.IsScalar()) {
          throw KeyValueError("expected " + expected_text(key) + ", got " + shape_of(it->second) + " for " +
                              shape_of(it->first));
        }
        if (has_nul(it->second.Scalar()) || has_nul(it->first.Scalar())) {
          throw KeyValueError("names and values cannot hold NUL bytes");
        }
        items[it->first.Scalar()] = it->second.Scalar();
      }
      return items;
    }
    default:
      if (!node.IsScalar()) throw wrong_shape();
      return parse_scalar(key, node.Scalar());
  }
}

class Loader {
 public:
  Loader(std::string source, fs::path base_dir) : errors_(std::move(source)), base_dir_(std::move(base_dir)) {}

  GatewayConfig load(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      errors_.add(e.mark, "", e.msg);
      errors_.throw_if_any();
    }
    if (root.IsMap()) {
      load_top(root);
    } else if (!root.IsNull()) {
      errors_.add(root.Mark(), "", "expected a map of settings at the top level, got " + shape_of(root));
    }
    errors_.throw_if_any();
    config_.source = source_name_;
    return std::move(config_);
  }

  void set_source_name(std::string name) { source_name_ = std::move(name); }

 private:
  // Calls `each(name, key node, value node)` for every entry of a map,
  // reporting keys that are not strings and duplicates.
  template <class Each>
  void for_each_entry(const YAML::Node& map, const std::string& prefix, Each each) {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        errors_.add(it->first.Mark(), prefix, "keys must be plain names, got " + shape_of(it->first));
        continue;
      }
      const std::string name = it->first.Scalar();
      if (!seen.insert(name).second) {
        errors_.add(it->first.Mark(), prefix + name, "duplicate key");
        continue;
      }
      each(name, it->first, it->second);
    }
  }

  // Where a value's error points: the value, or its key when the value is
  // empty (yaml-cpp puts an empty value where the next token starts).
  static YAML::Mark mark_of(const YAML::Node& key, const YAML::Node& value) {
    return value.IsNull() || value.Mark().is_null() ? key.Mark() : value.Mark();
  }

  void apply(const KeyDef& def, const YAML::Node& key, const YAML::Node& value, const std::string& path,
             PoolSettings& pool) {
    ConfigTarget target{config_, pool, base_dir_};
    try {
      def.set(target, node_value(def, value));
    } catch (const KeyValueError& e) {
      errors_.add(mark_of(key, value), path, e.what());
    }
  }

  void load_section(const YAML::Node& map, KeyLevel level, const std::string& prefix, PoolSettings& pool) {
    for_each_entry(map, prefix, [&](const std::string& name, const YAML::Node& key, const YAML::Node& value) {
      if (const KeyDef* def = find_key(level, name)) {
        apply(*def, key, value, prefix + name, pool);
      } else {
        errors_.add(key.Mark(), prefix + name, unknown_key_message(level, name));
      }
    });
  }

  void load_top(const YAML::Node& root) {
    PoolSettings scratch;
    for_each_entry(root, "", [&](const std::string& name, const YAML::Node& key, const YAML::Node& value) {
      if (name == "http") {
        if (value.IsMap())
          load_section(value, KeyLevel::http, "http.", scratch);
        else if (!value.IsNull())
          errors_.add(mark_of(key, value), "http", "expected a map of HTTP settings, got " + shape_of(value));
      } else if (name == "access_log" || name == "admin") {
        const KeyLevel level = name == "admin" ? KeyLevel::admin : KeyLevel::access_log;
        if (value.IsMap())
          load_section(value, level, name + ".", scratch);
        else if (!value.IsNull())
          errors_.add(mark_of(key, value), name, "expected a map of " + name + " settings, got " + shape_of(value));
      } else if (name == "pools") {
        load_pools(key, value);
      } else if (name == "routes") {
        load_routes(key, value);
      } else if (edge::is_edge_key(name)) {
        // Edge policy sections (gateway/edge/settings, docs/edge.md).
        edge::load_edge_key(name, key, value, base_dir_, config_.edge,
                            [&](const YAML::Mark& mark, const std::string& path, const std::string& message) {
                              errors_.add(mark, path, message);
                            });
      } else if (const KeyDef* def = find_key(KeyLevel::top, name)) {
        apply(*def, key, value, name, scratch);
      } else {
        errors_.add(key.Mark(), name, unknown_key_message(KeyLevel::top, name));
      }
    });
  }

  void load_pools(const YAML::Node& key, const YAML::Node& pools) {
    if (pools.IsNull()) return;
    if (!pools.IsMap()) {
      errors_.add(mark_of(key, pools), "pools",
                  "expected a map of pool names to pool settings, got " + shape_of(pools));
      return;
    }
    std::vector<PoolSettings> loaded;
    for_each_entry(pools, "pools.", [&](const std::string& name, const YAML::Node& name_node, const YAML::Node& body) {
      const std::string path = "pools." + name;
      if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                              std::string::npos) {
        errors_.add(name_node.Mark(), path, "a pool name is letters, digits, '_' and '-'");
      }
      PoolSettings pool;
      pool.name = name;
      if (body.IsMap()) {
        load_section(body, KeyLevel::pool, path + ".", pool);
        check_restart_delays(body, name_node, path, pool);
      } else if (!body.IsNull()) {
        errors_.add(mark_of(name_node, body), path, "expected a map of pool settings, got " + shape_of(body));
      }
      loaded.push_back(std::move(pool));
    });
    if (!loaded.empty()) config_.pools = std::move(loaded);
  }

  // routes: {"/prefix/:param": pool, ...}; checked whole in validate_config.
  void load_routes(const YAML::Node& key, const YAML::Node& routes) {
    if (routes.IsNull()) return;
    if (!routes.IsMap()) {
      errors_.add(mark_of(key, routes), "routes",
                  "expected a map of path prefixes to pool names, got " + shape_of(routes));
      return;
    }
    for_each_entry(
        routes, "routes.", [&](const std::string& prefix, const YAML::Node& name_node, const YAML::Node& pool) {
          if (!pool.IsScalar()) {
            errors_.add(mark_of(name_node, pool), "routes." + prefix, "expected a pool name, got " + shape_of(pool));
            return;
          }
          config_.routes.push_back({prefix, pool.Scalar()});
        });
  }

  void check_restart_delays(const YAML::Node& body, const YAML::Node& name_node, const std::string& path,
                            const PoolSettings& pool) {
    if (pool.restart_delay_max >= pool.restart_delay) return;
    const YAML::Node max_node = body["restart_delay_max"];
    const YAML::Node delay_node = body["restart_delay"];
    YAML::Mark mark = max_node ? max_node.Mark() : delay_node ? delay_node.Mark() : name_node.Mark();
    errors_.add(mark, path + ".restart_delay_max", "must be at least restart_delay");
  }

  ErrorList errors_;
  fs::path base_dir_;
  GatewayConfig config_;
  std::string source_name_;
};

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read config file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError("cannot read config file " + path + ": " + std::strerror(errno));
  return text.str();
}

}  // namespace

GatewayConfig parse_config_text(std::string_view yaml, const std::string& source, const fs::path& base_dir) {
  Loader loader(source, fs::absolute(base_dir));
  loader.set_source_name(source);
  return loader.load(yaml);
}

GatewayConfig read_config_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw ConfigError("cannot read config file " + path + ": it is a directory");
  std::string text = read_whole_file(path);
  fs::path base_dir = fs::absolute(path).parent_path();
  return parse_config_text(text, path, base_dir);
}

void validate_config(const GatewayConfig& config) {
  const std::string where = config.source.empty() ? std::string("command line") : config.source;
  if (config.listen.empty()) throw ConfigError(where + ": listen: no address to listen on");
  if (config.pools.empty()) {
    if (config.source.empty()) {
      throw ConfigError("no app given: pass the app to run (pagi-gateway path/to/app.pl) or --config FILE");
    }
    throw ConfigError(
        where + ": no pool defined: add pools.<name>.app to the file or pass the app to run (pagi-gateway --config " +
        config.source + " path/to/app.pl)");
  }
  std::vector<std::string> names;
  for (const auto& pool : config.pools) {
    names.push_back(pool.name);
    if (!pool.attach.empty()) {
      if (!pool.app.empty() || !pool.command.empty())
        throw ConfigError(where + ": pools." + pool.name +
                          ".attach: an attach pool runs no app or command of its own; remove them");
      for (const auto& other : config.pools) {
        if (&other != &pool && other.attach == pool.attach)
          throw ConfigError(where + ": pools." + pool.name + ".attach: " + pool.attach +
                            " is also the socket of pool " + other.name);
      }
      continue;
    }
    if (pool.app.empty() && pool.command.empty()) {
      throw ConfigError(where + ": pools." + pool.name +
                        ".app: no app given: set it in the file or pass the app to run (pagi-gateway --config " +
                        config.source + " path/to/app.pl)");
    }
    if (pool.command.empty() && !pool.app.empty()) {
      try {
        check_interface(pool.app, pool.interface);
      } catch (const ConfigError& e) {
        throw ConfigError(where + ": pools." + pool.name + ".interface: " + e.what());
      }
    }
  }
  try {
    RouteTable::compile(config.routes, names);
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }
  {
    std::vector<std::string> listen_texts, route_prefixes;
    for (const auto& address : config.listen) listen_texts.push_back(address.text());
    for (const auto& route : config.routes) {
      std::string prefix = route.prefix;
      while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
      route_prefixes.push_back(prefix);
    }
    if (auto error = edge::check_edge_references(config.edge, listen_texts, route_prefixes, names); !error.empty())
      throw ConfigError(where + ": " + error);
  }
}

GatewayConfig load_config(const std::string& path) {
  GatewayConfig config = read_config_file(path);
  validate_config(config);
  return config;
}

std::string config_summary(const GatewayConfig& config) {
  std::string out = "listen ";
  for (std::size_t i = 0; i < config.listen.size(); ++i) {
    if (i) out += ", ";
    out += config.listen[i].text();
  }
  for (const auto& pool : config.pools) {
    out += "; pool " + pool.name + ": ";
    if (!pool.attach.empty()) {
      out += "attach " + pool.attach;
      continue;
    }
    if (!pool.app.empty()) out += pool.app;
    if (!pool.command.empty()) {
      out += pool.app.empty() ? "command" : " via";
      for (const auto& arg : pool.command) out += " " + arg;
    }
    out += ", " + std::to_string(pool.workers) + (pool.workers == 1 ? " worker" : " workers");
    out += ", concurrency " + (pool.concurrency == 0 ? std::string("from worker") : std::to_string(pool.concurrency));
  }
  out += "; log level " + config.log_level;
  if (!config.source.empty()) out += "; from " + config.source;
  return out;
}

}  // namespace pagi::gateway
