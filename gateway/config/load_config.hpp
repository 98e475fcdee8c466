// Reading the YAML config file against the key schema. Every key is checked
// and every error collected before anything is returned, so a bad file never
// yields a half-applied config (nghttpx builds a fresh Config and swaps).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "gateway/config/config.hpp"

namespace pagi::gateway {

// Parses `yaml`, named `source` in messages ("gateway.yaml:12:5: ..."), with
// relative paths resolved against base_dir, over the defaults. Throws
// ConfigError listing every error, one per line. The result may lack a pool:
// the command line can still supply the app (see validate_config).
GatewayConfig parse_config_text(std::string_view yaml, const std::string& source,
                                const std::filesystem::path& base_dir);

// Reads and parses a file; relative paths resolve against its directory.
GatewayConfig read_config_file(const std::string& path);

// Whole-config checks once the command line is applied too: exactly one pool,
// and that pool has an app or a command. Throws ConfigError.
void validate_config(const GatewayConfig& config);

// read_config_file then validate_config.
GatewayConfig load_config(const std::string& path);

// One line for `--check-config` and the startup log:
// "listen 127.0.0.1:8080; pool app: /srv/app.pl, 2 workers, concurrency auto; ..."
std::string config_summary(const GatewayConfig& config);

}  // namespace pagi::gateway
