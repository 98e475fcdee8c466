// The gateway's error log: spdlog's default logger on stderr, in one of two
// formats (config `log_format`):
//   text  [2026-12-01 05:45:32.123] [info] message
//         with "[pool NAME pid N] " before the message when it is about a
//         worker (its stderr lines, workers/log_context.hpp); coloured
//         levels when stderr is a terminal.
//   json  one object per line with stable fields, added at the end only:
//         {"time":"2026-12-01T05:45:32.123Z","level":"info","message":"...",
//          "pool":"app","pid":1234}  (pool and pid only when known)
//         Strings are escaped so any byte leaves the line valid JSON.
#pragma once

#include <memory>
#include <string>

#include <spdlog/formatter.h>

namespace pagi::gateway::observability {

// Throws std::invalid_argument for an unknown format.
void setup_error_log(const std::string& level, const std::string& format);

// The formatters themselves (for tests).
std::unique_ptr<spdlog::formatter> make_json_log_formatter();
std::unique_ptr<spdlog::formatter> make_text_log_formatter();

}  // namespace pagi::gateway::observability
