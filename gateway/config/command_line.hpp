// The pagi-gateway command line: flags over the config file over defaults.
//
//   pagi-gateway [--config FILE] [--listen ADDR]... [--workers N]
//                [--concurrency N] [--interface KIND] [--app-dir DIR]
//                [--log-level LEVEL] [--check-config]
//                [--version] [--help] [APP]
//
// main() calls parse_command_line and does what `action` says; a
// ConfigError means: print "pagi-gateway: <what()>" to stderr, exit 2.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"

namespace pagi::gateway {

enum class CommandAction {
  run,                     // serve with `config`
  check_config,            // print `message` ("configuration OK: ..."), exit 0
  print_version,           // print `message`, exit 0
  print_help,              // print `message`, exit 0
  print_config_reference,  // print `message` (docs/configuration.md), exit 0
};

// The flags as given, kept so a reload (SIGHUP) can rebuild the config with
// build_config: the file is read again, the flags still win.
struct CommandLineOptions {
  std::optional<std::string> config_file;
  std::vector<std::string> listen;     // replaces the file's list when not empty
  std::optional<std::string> workers;  // as typed; checked like pools.<name>.workers
  std::optional<std::string> concurrency;
  std::optional<std::string> log_level;
  std::optional<std::string> interface;  // Python apps: pools.<name>.interface
  std::optional<std::string> app_dir;    // Python apps: pools.<name>.app_dir
  std::optional<std::string> app;        // replaces the pool's app
  std::filesystem::path working_dir;     // relative APP and unix: paths start here
  bool reload = false;                   // --reload: watch files, SIGHUP on change
  std::vector<std::string> reload_dirs;  // --reload-dir (absolute; implies --reload)
};

struct CommandLine {
  CommandAction action = CommandAction::run;
  GatewayConfig config;  // complete and validated for run and check_config
  std::string message;   // stdout text, without a final newline; for run, the summary
  CommandLineOptions options;
};

// argv[0] is skipped. Throws ConfigError for a bad flag or a bad config.
CommandLine parse_command_line(int argc, const char* const* argv);
CommandLine parse_command_line(std::span<const std::string> args);  // args without argv[0]

// Defaults, then the file, then the flags; validated whole. Throws ConfigError.
GatewayConfig build_config(const CommandLineOptions& options);

// One flag, for the help text and the reference docs.
struct FlagDef {
  std::string_view name;      // "--listen"
  char short_name = 0;        // 'l' for -l, 0 = none
  std::string_view argument;  // "ADDR", or "" for a switch
  std::string_view doc;
  bool hidden = false;  // not in --help (developer flags)
};

std::span<const FlagDef> command_line_flags();
std::string help_text();
std::string version_text();  // "pagi-gateway 0.1.0"

}  // namespace pagi::gateway
