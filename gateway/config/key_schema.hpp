// The typed schema of the configuration: every key of the YAML file declared
// once, with its type, bounds, level, documentation and a setter into the
// settings structs. The loader, the command line, the summary and
// docs/configuration.md are all driven by this one table (after h2o's
// configurators and Passenger's ConfigKit schemas).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/config/config.hpp"

namespace pagi::gateway {

// Where a key may appear in the file.
enum class KeyLevel {
  top,         // top level of the file
  http,        // under `http:`
  pool,        // under `pools.<name>:`
  access_log,  // under `access_log:`
  admin,       // under `admin:`
};

enum class KeyType {
  boolean,      // true/false (also yes/no, on/off)
  integer,      // decimal integer within [min, max]
  size,         // bytes: plain integer or with k/m/g, within [min, max]
  seconds,      // number (float allowed) or with ms/s/m/h; >= 0, or > 0 when !zero_allowed
  string,       // any scalar
  path,         // a file path, resolved against the config file's directory
  enumeration,  // one of `choices`
  string_list,  // a YAML sequence of scalars
  string_map,   // a YAML map of scalar to scalar
  listen_list,  // one address or a sequence of them
};

// A parsed value, by type: boolean -> bool; integer, size -> int64;
// seconds -> double; string, path, enumeration -> string; string_list,
// listen_list -> vector; string_map -> map.
using KeyValue =
    std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>, std::map<std::string, std::string>>;

// What a setter writes into: the config being built, the pool being filled
// (a scratch pool for top and http keys), and where relative paths start.
struct ConfigTarget {
  GatewayConfig& config;
  workers::PoolSettings& pool;
  std::filesystem::path base_dir;
};

// What is wrong with one value, without a location: the loader prefixes
// file:line:column and the key path, the command line the flag name.
class KeyValueError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

struct KeyDef {
  std::string_view name;
  KeyLevel level;
  KeyType type;
  std::string_view doc;  // one line, for docs/configuration.md
  std::int64_t min = 0;  // integer, size
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  bool zero_allowed = true;               // seconds
  std::vector<std::string_view> choices;  // enumeration
  // Shown instead of the struct's default when that says little ("derived
  // from app"); empty = format the struct's default.
  std::string_view default_note;
  // Value for the generated example file; empty = the default.
  std::string_view example;
  // Stores a value of this key's type; may throw KeyValueError (an app that
  // does not exist, a bad address).
  std::function<void(ConfigTarget&, const KeyValue&)> set;
  // Reads the current value back (defaults for the docs, the summary).
  std::function<KeyValue(const GatewayConfig&, const workers::PoolSettings&)> get;
};

// Every key, in documentation order.
std::span<const KeyDef> config_keys();

// The key `name` at `level`, or nullptr.
const KeyDef* find_key(KeyLevel level, std::string_view name);

// "", "http." or "pools.<name>." - the path prefix of a level.
std::string level_prefix(KeyLevel level, std::string_view pool_name = "<name>");

// "an integer >= 1", "a size in bytes between 1 and 4g" ... for messages.
std::string expected_text(const KeyDef& key);

// Short type for the reference table: "integer 1..4096", "seconds > 0".
std::string type_text(const KeyDef& key);

// Parses a scalar of the key's type and checks its bounds. For list and map
// types a scalar is an error. Throws KeyValueError `expected ..., got "text"`.
KeyValue parse_scalar(const KeyDef& key, std::string_view text);

// Value as YAML text that parse_scalar/the loader read back: "32k", "30",
// "[perl, worker.pl]", "{}".
std::string format_value(const KeyDef& key, const KeyValue& value);

// The default of a key as shown in the docs: default_note, or the
// formatted value of a default-constructed config.
std::string default_text(const KeyDef& key);

}  // namespace pagi::gateway
