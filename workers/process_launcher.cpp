#include "workers/process_launcher.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <signal.h>
#include <unistd.h>

#include <linux/close_range.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "workers/body_ring.hpp"
#include "workers/stderr_reader.hpp"
#include "workers/worker_connection.hpp"

extern char** environ;

#ifndef PAGI_SOURCE_DIR
#define PAGI_SOURCE_DIR "."
#endif

namespace pagi::workers {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string perl_sdk_dir() {
  if (const char* dir = std::getenv("PAGI_PERL_SDK"); dir != nullptr && *dir != '\0') return dir;
  return std::string(PAGI_SOURCE_DIR) + "/sdk/perl";
}

std::string python_sdk_dir() {
  if (const char* dir = std::getenv("PAGI_PYTHON_SDK"); dir != nullptr && *dir != '\0') return dir;
  return std::string(PAGI_SOURCE_DIR) + "/sdk/python";
}

// The config names Python apps module:attribute or path/file.py:attribute
// (gateway/config/app_kind.cpp checked which); Perl apps end in .pl.
bool is_python_app(std::string_view app) { return !ends_with(app, ".pl") && app.find(':') != std::string_view::npos; }

// PSGI files, CGI scripts or directories of them, or a Perl app forced to
// one of those interfaces: served by the Perl worker's adapters.
bool is_perl_adapter_app(const PoolSettings& settings) {
  const std::string_view app = settings.app;
  return ends_with(app, ".psgi") || ends_with(app, ".cgi") || ends_with(app, "/") || settings.interface == "psgi" ||
         settings.interface == "cgi";
}

// The gateway's environment with the pool's additions; PAGI_WORKER_FD and
// PAGI_BODY_RING_FD last so nothing can override them.
std::vector<std::string> worker_environment(const PoolSettings& settings, int worker_fd, int ring_fd) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    merged[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  for (const auto& [key, value] : settings.env) merged[key] = value;
  merged["PAGI_WORKER_FD"] = std::to_string(worker_fd);
  if (ring_fd >= 0)
    merged["PAGI_BODY_RING_FD"] = std::to_string(ring_fd);
  else
    merged.erase("PAGI_BODY_RING_FD");  // a gateway's own, inherited: not this worker's
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [key, value] : merged) out.push_back(key + "=" + value);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Only async-signal-safe calls from here to exec: the child of a process
// that may have other threads (spdlog's, OpenSSL's) must not allocate.
[[noreturn]] void exec_child(int worker_fd, int ring_fd, int status_pipe, int stderr_fd, pid_t parent, char** argv,
                             char** envp) {
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);  // exec keeps an ignored SIGPIPE ignored
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    if (null_fd != STDIN_FILENO) ::close(null_fd);
  }
  if (stderr_fd >= 0) ::dup2(stderr_fd, STDERR_FILENO);  // dup2 clears close-on-exec
  // Nothing else of the gateway's reaches the worker: an inherited listening
  // socket would keep accepting connections after the gateway closed it.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 4096; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::fcntl(worker_fd, F_SETFD, 0);  // the worker end survives exec
  if (ring_fd >= 0) ::fcntl(ring_fd, F_SETFD, 0);
  ::execvpe(argv[0], argv, envp);
  const int err = errno;
  ssize_t ignored = ::write(status_pipe, &err, sizeof err);
  (void)ignored;
  _exit(127);
}

// Resident memory without shared memory, from /proc/<pid>/status: VmRSS
// less RssShmem, so the pages of the worker's body ring (shared with the
// gateway) do not count as the worker's growth.
std::optional<std::uint64_t> read_resident_bytes(int pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", pid);
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return std::nullopt;
  unsigned long long rss_kb = 0, shmem_kb = 0, value = 0;
  bool have_rss = false;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %llu", &value) == 1) {
      rss_kb = value;
      have_rss = true;
    } else if (std::sscanf(line, "RssShmem: %llu", &value) == 1) {
      shmem_kb = value;
    }
  }
  std::fclose(f);
  if (!have_rss) return std::nullopt;
  return static_cast<std::uint64_t>(rss_kb - std::min(rss_kb, shmem_kb)) * 1024;
}

class ProcessLauncher final : public WorkerLauncher {
 public:
  explicit ProcessLauncher(ChildReaper& reaper) : reaper_(reaper) {}

  LaunchedWorker launch(const PoolSettings& settings, ExitHandler on_exit, std::string& error) override {
    std::vector<std::string> argv = worker_argv(settings, error);
    if (argv.empty()) return {};
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      error = std::string("socketpair: ") + std::strerror(errno);
      return {};
    }
    const int gateway_fd = fds[0];
    const int worker_fd = fds[1];
    widen_send_buffer(gateway_fd);
    int status_pipe[2];
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
      error = std::string("pipe: ") + std::strerror(errno);
      ::close(gateway_fd);
      ::close(worker_fd);
      return {};
    }
    // The worker's stderr: a pipe read on the io_context (-1: inherited,
    // when no pipe could be made).
    int err_pipe[2] = {-1, -1};
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
      spdlog::warn("pool {}: pipe for worker stderr: {}; the worker writes to the gateway's stderr", settings.name,
                   std::strerror(errno));
      err_pipe[0] = err_pipe[1] = -1;
    }
    // The ring is an optimisation: without one the worker sends bodies inline.
    std::shared_ptr<BodyRing> ring;
    if (settings.body_ring > 0) {
      std::string ring_error;
      ring = BodyRing::create(settings.body_ring, ring_error);
      if (!ring) spdlog::warn("pool {}: {}; bodies go through the socket", settings.name, ring_error);
    }
    const int ring_fd = ring ? ring->fd() : -1;
    std::vector<std::string> env = worker_environment(settings, worker_fd, ring_fd);
    std::vector<char*> c_argv = c_strings(argv);
    std::vector<char*> c_env = c_strings(env);
    const pid_t parent = ::getpid();

    const pid_t pid = ::fork();
    if (pid == 0) exec_child(worker_fd, ring_fd, status_pipe[1], err_pipe[1], parent, c_argv.data(), c_env.data());
    ::close(worker_fd);
    if (ring) ring->close_fd();  // the mapping stays
    ::close(status_pipe[1]);
    if (err_pipe[1] >= 0) ::close(err_pipe[1]);
    if (err_pipe[0] >= 0) {
      if (pid > 0)
        start_stderr_reader(reaper_.io(), err_pipe[0], settings.name, pid);
      else
        ::close(err_pipe[0]);
    }
    if (pid < 0) {
      error = std::string("fork: ") + std::strerror(errno);
      ::close(gateway_fd);
      ::close(status_pipe[0]);
      return {};
    }
    reaper_.watch(pid, std::move(on_exit));

    // exec closes the pipe on success; on failure the child writes errno.
    int exec_errno = 0;
    ssize_t n;
    do {
      n = ::read(status_pipe[0], &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    ::close(status_pipe[0]);
    if (n == sizeof exec_errno) {
      // The child exits by itself; the reaper still collects it.
      error = "exec " + argv[0] + ": " + std::strerror(exec_errno);
      ::close(gateway_fd);
      return {};
    }
    ::fcntl(gateway_fd, F_SETFL, ::fcntl(gateway_fd, F_GETFL) | O_NONBLOCK);
    spdlog::debug("spawned worker pid={} argv0={}", pid, argv[0]);
    return {gateway_fd, pid, std::move(ring)};
  }

  void signal(int pid, int sig) override {
    // Only our own live children: a reaped pid may already belong to another process.
    if (pid > 0 && reaper_.watching(pid)) ::kill(pid, sig);
  }

  std::optional<std::uint64_t> resident_bytes(int pid) override {
    if (pid <= 0 || !reaper_.watching(pid)) return std::nullopt;
    return read_resident_bytes(pid);
  }

 private:
  ChildReaper& reaper_;
};

}  // namespace

std::vector<std::string> worker_argv(const PoolSettings& settings, std::string& error) {
  if (!settings.command.empty()) return settings.command;
  // Adapters first: `interface: psgi` may name a PSGI app in a *.pl file.
  if (is_perl_adapter_app(settings)) {
    // PSGI and CGI: the Perl worker picks its adapter from the name or --interface.
    const std::string sdk = perl_sdk_dir();
    std::vector<std::string> argv = {"perl", "-I" + sdk + "/lib", sdk + "/bin/pagi-worker-perl"};
    if (settings.interface == "psgi" || settings.interface == "cgi") {
      argv.insert(argv.end(), {"--interface", settings.interface});
    }
    if (settings.interface == "cgi" || ends_with(settings.app, ".cgi") || ends_with(settings.app, "/")) {
      argv.insert(argv.end(), {"--cgi-timeout", std::to_string(settings.cgi_timeout.count()), "--cgi-kill-grace",
                               std::to_string(settings.cgi_kill_grace.count())});
    }
    argv.insert(argv.end(), {"--", settings.app});
    return argv;
  }
  if (ends_with(settings.app, ".pl")) {
    const std::string sdk = perl_sdk_dir();
    return {"perl", "-I" + sdk + "/lib", sdk + "/bin/pagi-worker-perl", settings.app};
  }
  if (is_python_app(settings.app)) {
    std::vector<std::string> argv = {settings.python, python_sdk_dir() + "/bin/pagi-worker-python", "--interface",
                                     settings.interface};
    if (!settings.app_dir.empty()) {
      argv.push_back("--app-dir");
      argv.push_back(settings.app_dir);
    }
    // "--" so an app spec can never be read as a flag.
    argv.push_back("--");
    argv.push_back(settings.app);
    return argv;
  }
  error = "pool '" + settings.name + "': no command set and no worker known for app '" + settings.app + "'";
  return {};
}

std::shared_ptr<WorkerLauncher> make_process_launcher(ChildReaper& reaper) {
  return std::make_shared<ProcessLauncher>(reaper);
}

}  // namespace pagi::workers
