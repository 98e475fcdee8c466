#include "gateway/config/command_line.hpp"

#include <algorithm>

#include "gateway/config/app_kind.hpp"
#include "gateway/config/key_schema.hpp"
#include "gateway/config/load_config.hpp"
#include "gateway/config/reference_doc.hpp"

#ifndef PAGI_VERSION
#define PAGI_VERSION "unknown"
#endif

namespace pagi::gateway {
namespace {

namespace fs = std::filesystem;

const std::vector<FlagDef>& flags() {
  static const std::vector<FlagDef> table = {
      {"--config", 'c', "FILE", "Read settings from this YAML file (see `docs/configuration.md`)."},
      {"--listen", 'l', "ADDR",
       "Accept clients on host:port, [ipv6]:port or unix:/path; repeat for several. Replaces the file's `listen`."},
      {"--workers", 'w', "N", "Worker processes of the pool; overrides `pools.<name>.workers`."},
      {"--concurrency", 0, "N",
       "Scopes per worker at once (0 = the worker's own); overrides `pools.<name>.concurrency`."},
      {"--interface", 0, "KIND", "Python apps: auto, asgi, wsgi or pagi; overrides `pools.<name>.interface`."},
      {"--app-dir", 0, "DIR",
       "Python apps: import module:attribute from DIR (default: the current directory); overrides "
       "`pools.<name>.app_dir`."},
      {"--log-level", 0, "LEVEL", "trace, debug, info, warn or error; overrides `log_level`."},
      {"--reload", 0, "",
       "Development: watch the app files and the config file (inotify) and reload like SIGHUP after a change (300 ms "
       "debounce)."},
      {"--reload-dir", 0, "DIR", "With --reload (implied): also watch DIR and its subdirectories; repeatable."},
      {"--check-config", 0, "", "Check the configuration, print a summary and exit: 0 when valid, 2 when not."},
      {"--version", 'V', "", "Print the version and exit."},
      {"--help", 'h', "", "Print this help and exit."},
      {"--print-config-reference", 0, "", "Print `docs/configuration.md`, generated from the key table.", true},
  };
  return table;
}

const FlagDef* find_flag(std::string_view arg) {
  for (const auto& flag : flags()) {
    if (arg == flag.name) return &flag;
    if (flag.short_name && arg.size() == 2 && arg[0] == '-' && arg[1] == flag.short_name) return &flag;
  }
  return nullptr;
}

// Sets one key from a flag; errors name the flag instead of a file position.
void apply_flag(std::string_view label, KeyLevel level, std::string_view key_name, const KeyValue& value,
                ConfigTarget& target) {
  const KeyDef* key = find_key(level, key_name);
  try {
    key->set(target, value);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string(label) + ": " + e.what());
  }
}

void apply_scalar_flag(std::string_view label, KeyLevel level, std::string_view key_name, const std::string& text,
                       ConfigTarget& target) {
  KeyValue value;
  try {
    value = parse_scalar(*find_key(level, key_name), text);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string(label) + ": " + e.what());
  }
  apply_flag(label, level, key_name, value, target);
}

}  // namespace

std::span<const FlagDef> command_line_flags() { return flags(); }

std::string version_text() { return std::string("pagi-gateway ") + PAGI_VERSION; }

std::string help_text() {
  std::string out =
      "Usage: pagi-gateway [OPTIONS] [APP]\n"
      "\n"
      "Serves APP over HTTP through a pool of worker processes. APP is " +
      std::string(supported_app_kinds()) +
      "; it replaces the app of the config file's pool.\n"
      "Precedence: built-in defaults, then --config FILE, then these flags.\n"
      "\n"
      "Options:\n";
  for (const auto& flag : flags()) {
    if (flag.hidden) continue;
    std::string left(4, ' ');
    if (flag.short_name) {
      left = {'-', flag.short_name, ',', ' '};
    }
    left += flag.name;
    if (!flag.argument.empty()) {
      left += ' ';
      left += flag.argument;
    }
    // Appends piecewise: g++ 12 warns falsely (-Wrestrict) on "literal" + string.
    out += "  ";
    out += left;
    out.append(left.size() < 26 ? 26 - left.size() : 1, ' ');
    out += flag.doc;
    out += '\n';
  }
  out += "\nEvery config file key is described in docs/configuration.md.\n";
  return out;
}

GatewayConfig build_config(const CommandLineOptions& options) {
  GatewayConfig config = options.config_file ? read_config_file(*options.config_file) : GatewayConfig{};
  workers::PoolSettings scratch;
  ConfigTarget top{config, scratch, options.working_dir};
  if (!options.listen.empty()) apply_flag("--listen", KeyLevel::top, "listen", options.listen, top);
  if (options.log_level) apply_scalar_flag("--log-level", KeyLevel::top, "log_level", *options.log_level, top);

  const bool touches_pool =
      options.app || options.workers || options.concurrency || options.interface || options.app_dir;
  if (touches_pool && config.pools.empty()) config.pools.emplace_back();
  if (touches_pool) {
    ConfigTarget pool{config, config.pools.front(), options.working_dir};
    if (options.app) {
      // APP named here imports from here, not from the file's app_dir.
      config.pools.front().app_dir.clear();
      apply_scalar_flag("APP", KeyLevel::pool, "app", *options.app, pool);
    }
    if (options.interface) apply_scalar_flag("--interface", KeyLevel::pool, "interface", *options.interface, pool);
    if (options.app_dir) apply_scalar_flag("--app-dir", KeyLevel::pool, "app_dir", *options.app_dir, pool);
    if (options.workers) apply_scalar_flag("--workers", KeyLevel::pool, "workers", *options.workers, pool);
    if (options.concurrency) {
      apply_scalar_flag("--concurrency", KeyLevel::pool, "concurrency", *options.concurrency, pool);
    }
  }
  validate_config(config);
  return config;
}

CommandLine parse_command_line(std::span<const std::string> args) {
  CommandLine result;
  CommandLineOptions& options = result.options;
  options.working_dir = fs::current_path();
  bool help = false, version = false, check = false, reference = false, options_done = false;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      if (options.app) throw ConfigError("only one APP may be given, got \"" + *options.app + "\" and \"" + arg + "\"");
      options.app = arg;
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    const FlagDef* flag = find_flag(name);
    if (!flag) throw ConfigError("unknown option " + name + " (try --help)");
    std::string value;
    if (!flag->argument.empty()) {
      if (inline_value)
        value = *inline_value;
      else if (i + 1 < args.size())
        value = args[++i];
      else
        throw ConfigError(std::string(flag->name) + ": missing " + std::string(flag->argument));
    } else if (inline_value) {
      throw ConfigError(std::string(flag->name) + " takes no value");
    }

    const std::string_view flag_name = flag->name;
    if (flag_name == "--config")
      options.config_file = value;
    else if (flag_name == "--listen")
      options.listen.push_back(value);
    else if (flag_name == "--workers")
      options.workers = value;
    else if (flag_name == "--concurrency")
      options.concurrency = value;
    else if (flag_name == "--log-level")
      options.log_level = value;
    else if (flag_name == "--interface")
      options.interface = value;
    else if (flag_name == "--app-dir")
      options.app_dir = value;
    else if (flag_name == "--reload")
      options.reload = true;
    else if (flag_name == "--reload-dir") {
      fs::path dir(value);
      if (dir.is_relative()) dir = options.working_dir / dir;
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) throw ConfigError("--reload-dir: \"" + value + "\" is not a directory");
      options.reload_dirs.push_back(fs::absolute(dir).lexically_normal().string());
      options.reload = true;
    } else if (flag_name == "--check-config")
      check = true;
    else if (flag_name == "--version")
      version = true;
    else if (flag_name == "--help")
      help = true;
    else if (flag_name == "--print-config-reference")
      reference = true;
  }

  // Informational actions need no valid config.
  // Every message comes without a final newline: main adds one.
  auto without_final_newline = [](std::string text) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  };
  if (help) {
    result.action = CommandAction::print_help;
    result.message = without_final_newline(help_text());
    return result;
  }
  if (version) {
    result.action = CommandAction::print_version;
    result.message = version_text();
    return result;
  }
  if (reference) {
    result.action = CommandAction::print_config_reference;
    result.message = without_final_newline(config_reference_markdown());
    return result;
  }
  result.config = build_config(options);
  if (check) {
    result.action = CommandAction::check_config;
    result.message = "configuration OK: " + config_summary(result.config);
  } else {
    result.message = config_summary(result.config);
  }
  return result;
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_command_line(args);
}

}  // namespace pagi::gateway
