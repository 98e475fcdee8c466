#include "gateway/reload_watcher.hpp"

#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <signal.h>
#include <stdexcept>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>

#include "gateway/config/config.hpp"

namespace pagi::gateway {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

bool ignored_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '~' || name == "__pycache__") return true;
  for (std::string_view ext : {".swp", ".swx", ".pyc", ".pyo"}) {
    if (name.ends_with(ext)) return true;
  }
  return false;
}

// The file an app is: a Perl file, a Python "path/file.py:attr", or the
// module of "package.module:attr" under app_dir. Empty when none is found.
std::string app_file(const std::string& app, const std::string& app_dir) {
  std::error_code ec;
  if (fs::is_regular_file(app, ec)) return app;
  const auto colon = app.rfind(':');
  if (colon == std::string::npos) return {};
  const std::string file = app.substr(0, colon);
  if (fs::is_regular_file(file, ec)) return file;
  if (app_dir.empty()) return {};
  std::string module = file;
  for (char& c : module) c = c == '.' ? '/' : c;
  for (const fs::path& candidate : {fs::path(app_dir) / (module + ".py"), fs::path(app_dir) / module / "__init__.py"}) {
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  return {};
}

constexpr std::uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE;

class InotifyWatcher final : public ReloadWatcher, public std::enable_shared_from_this<InotifyWatcher> {
 public:
  InotifyWatcher(asio::io_context& io, int fd, std::chrono::milliseconds debounce)
      : stream_(io, fd), timer_(io), debounce_(debounce) {}

  void watch(const ReloadWatchList& list) {
    for (const auto& file : list.files) {
      const fs::path p = fs::absolute(file).lexically_normal();
      Watch& w = add_dir(p.parent_path().string(), false);
      w.files.insert(p.filename().string());
    }
    for (const auto& dir : list.dirs) add_tree(fs::absolute(dir).lexically_normal());
  }

  void read_next() {
    stream_.async_read_some(asio::buffer(buffer_),
                            [weak = weak_from_this()](const boost::system::error_code& ec, std::size_t n) {
                              auto self = weak.lock();
                              if (!self || ec) return;
                              self->on_events(n);
                              self->read_next();
                            });
  }

  ~InotifyWatcher() override {
    boost::system::error_code ignored;
    timer_.cancel();
    stream_.close(ignored);
  }

 private:
  struct Watch {
    std::string dir;
    bool whole = false;           // every name counts (a --reload-dir)
    std::set<std::string> files;  // else only these names
  };

  Watch& add_dir(const std::string& dir, bool whole) {
    if (watches_.size() >= max_watched_dirs)
      throw std::runtime_error("--reload: more than " + std::to_string(max_watched_dirs) + " directories to watch");
    const int wd = ::inotify_add_watch(stream_.native_handle(), dir.c_str(), kEvents);
    if (wd < 0) throw std::runtime_error("--reload: cannot watch " + dir + ": " + std::strerror(errno));
    Watch& w = watches_[wd];
    w.dir = dir;
    w.whole = w.whole || whole;
    return w;
  }

  void add_tree(const fs::path& root) {
    add_dir(root.string(), true);
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_directory(ec)) continue;
      if (ignored_name(it->path().filename().string())) {
        it.disable_recursion_pending();
        continue;
      }
      add_dir(it->path().string(), true);
    }
  }

  void on_events(std::size_t n) {
    std::size_t at = 0;
    while (at + sizeof(inotify_event) <= n) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buffer_.data() + at);
      at += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        changed("(many files)");
        continue;
      }
      auto it = watches_.find(ev->wd);
      if (it == watches_.end() || ev->len == 0) continue;
      const std::string name(ev->name);
      if (ignored_name(name)) continue;
      const Watch& w = it->second;
      if (!w.whole && w.files.count(name) == 0) continue;
      const std::string path = w.dir + "/" + name;
      if (w.whole && (ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
        try {
          add_tree(path);  // a new subdirectory of a --reload-dir
        } catch (const std::exception& e) {
          spdlog::warn("{}", e.what());
        }
      }
      changed(path);
    }
  }

  // Debounce: a save often is several events (write, rename, chmod); reload
  // once, `debounce_` after the last one.
  void changed(const std::string& path) {
    if (pending_.empty()) pending_ = path;
    timer_.expires_after(debounce_);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec) return;
      spdlog::info("--reload: {} changed: reloading", self->pending_);
      self->pending_.clear();
      ::kill(::getpid(), SIGHUP);  // the same path as an operator's SIGHUP
    });
  }

  asio::posix::stream_descriptor stream_;
  asio::steady_timer timer_;
  std::chrono::milliseconds debounce_;
  std::map<int, Watch> watches_;
  std::string pending_;
  alignas(inotify_event) std::array<char, 16 * 1024> buffer_{};
};

class Handle final : public ReloadWatcher {
 public:
  explicit Handle(std::shared_ptr<InotifyWatcher> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<InotifyWatcher> impl_;
};

}  // namespace

ReloadWatchList reload_watch_list(const GatewayConfig& config, const std::vector<std::string>& extra_dirs) {
  ReloadWatchList list;
  if (!config.source.empty()) list.files.push_back(fs::absolute(config.source).string());
  for (const auto& pool : config.pools) {
    if (pool.app.empty()) continue;  // attach pools: their code is someone else's to reload
    std::error_code ec;
    if (auto file = app_file(pool.app, pool.app_dir); !file.empty()) {
      list.files.push_back(fs::absolute(file).string());
    } else if (fs::is_directory(pool.app, ec)) {
      list.dirs.push_back(fs::absolute(pool.app).string());  // a CGI directory
    }
  }
  for (const auto& dir : extra_dirs) list.dirs.push_back(dir);
  return list;
}

std::unique_ptr<ReloadWatcher> ReloadWatcher::start(asio::io_context& io, const ReloadWatchList& list,
                                                    std::chrono::milliseconds debounce) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("--reload: inotify: ") + std::strerror(errno));
  auto impl = std::make_shared<InotifyWatcher>(io, fd, debounce);
  impl->watch(list);
  impl->read_next();
  return std::make_unique<Handle>(std::move(impl));
}

}  // namespace pagi::gateway
