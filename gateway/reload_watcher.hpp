// `pagi-gateway --reload` (development): watches the pools' app files (a
// Perl file, a Python file or the module file of module:attribute, a CGI
// directory), the config file and the --reload-dir directories (with their
// subdirectories) with inotify,
// and after a quiet period (`debounce`, 300 ms by default) raises SIGHUP in
// its own process, so a change goes through exactly the rolling replacement
// of a SIGHUP reload (config re-read, new workers first, no failed request).
//
// Files are watched through their directory (editors often save by writing a
// new file and renaming it over the old one, which a watch on the file
// itself would miss). Ignored: names starting with '.', ending in '~',
// .swp/.swx/.pyc/.pyo files, and __pycache__ directories, so that editors'
// scratch files and Python's bytecode cache (written by the new workers
// themselves) do not trigger reloads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace pagi::gateway {

struct GatewayConfig;

struct ReloadWatchList {
  std::vector<std::string> files;  // absolute paths
  std::vector<std::string> dirs;   // watched with their subdirectories
};

// What --reload watches for `config` plus the extra directories.
ReloadWatchList reload_watch_list(const GatewayConfig& config, const std::vector<std::string>& extra_dirs);

class ReloadWatcher {
 public:
  static constexpr std::chrono::milliseconds default_debounce{300};
  // Most directories watched (inotify watches are a per-user kernel limit).
  static constexpr std::size_t max_watched_dirs = 4096;

  // Starts watching; throws std::runtime_error with a sentence on failure.
  static std::unique_ptr<ReloadWatcher> start(boost::asio::io_context& io, const ReloadWatchList& list,
                                              std::chrono::milliseconds debounce = default_debounce);
  virtual ~ReloadWatcher() = default;
};

}  // namespace pagi::gateway
