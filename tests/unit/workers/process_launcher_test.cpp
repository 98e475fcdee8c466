// Real child processes: fork/exec, the socketpair handover, reaping and
// PR_SET_PDEATHSIG. The child is this test binary itself re-executed in
// fake-worker mode (env PAGI_FAKE_WORKER), speaking the real wire format.
#include "workers/process_launcher.hpp"

#include <cstdlib>
#include <optional>
#include <poll.h>
#include <string_view>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tests/fakes/fake_downstream.hpp"
#include "tests/fakes/fake_worker.hpp"
#include "workers/child_reaper.hpp"
#include "workers/pool.hpp"

namespace {

// Before main(): a re-executed copy of this binary becomes a fake worker.
const bool fake_worker_mode = [] {
  const char* mode = std::getenv("PAGI_FAKE_WORKER");
  if (mode == nullptr) return false;
  pagi::fakes::FakeWorkerOptions options;
  options.serve_hello = true;
  // "hold": outlive the gateway's socket, so only a signal can end us.
  const bool hold = std::string_view(mode) == "hold";
  options.exit_on_eof = !hold;
  const int code = pagi::fakes::run_fake_worker_process(options);
  while (hold) ::pause();
  _exit(code);
}();

}  // namespace

namespace pagi::workers {
namespace {

using Clock = std::chrono::steady_clock;

TEST(WorkerArgv, CommandWins) {
  PoolSettings s;
  s.app = "app.pl";
  s.command = {"/usr/bin/env", "x"};
  std::string error;
  EXPECT_EQ(worker_argv(s, error), s.command);
}

TEST(WorkerArgv, PerlAppUsesThePerlSdk) {
  PoolSettings s;
  s.app = "/srv/app.pl";
  ::unsetenv("PAGI_PERL_SDK");
  std::string error;
  const auto argv = worker_argv(s, error);
  ASSERT_EQ(argv.size(), 4u);
  EXPECT_EQ(argv[0], "perl");
  EXPECT_EQ(argv[1].rfind("-I", 0), 0u);
  EXPECT_NE(argv[1].find("/sdk/perl/lib"), std::string::npos);
  EXPECT_NE(argv[2].find("/sdk/perl/bin/pagi-worker-perl"), std::string::npos);
  EXPECT_EQ(argv[3], "/srv/app.pl");

  ::setenv("PAGI_PERL_SDK", "/opt/sdk", 1);
  const auto custom = worker_argv(s, error);
  ::unsetenv("PAGI_PERL_SDK");
  EXPECT_EQ(custom,
            (std::vector<std::string>{"perl", "-I/opt/sdk/lib", "/opt/sdk/bin/pagi-worker-perl", "/srv/app.pl"}));
}

TEST(WorkerArgv, PerlFileWithInterfacePsgiGoesToThePsgiAdapter) {
  PoolSettings s;
  s.app = "/srv/app.pl";
  s.interface = "psgi";
  ::setenv("PAGI_PERL_SDK", "/opt/sdk", 1);
  std::string error;
  const auto argv = worker_argv(s, error);
  ::unsetenv("PAGI_PERL_SDK");
  EXPECT_EQ(argv, (std::vector<std::string>{"perl", "-I/opt/sdk/lib", "/opt/sdk/bin/pagi-worker-perl", "--interface",
                                            "psgi", "--", "/srv/app.pl"}));
}

TEST(WorkerArgv, PythonAppUsesThePythonSdk) {
  PoolSettings s;
  s.app = "myproject.asgi:application";
  s.app_dir = "/srv/site";
  s.interface = "wsgi";
  ::unsetenv("PAGI_PYTHON_SDK");
  std::string error;
  const auto argv = worker_argv(s, error);
  ASSERT_EQ(argv.size(), 8u) << error;
  EXPECT_EQ(argv[0], "python3");
  EXPECT_NE(argv[1].find("/sdk/python/bin/pagi-worker-python"), std::string::npos);
  EXPECT_EQ(
      std::vector<std::string>(argv.begin() + 2, argv.end()),
      (std::vector<std::string>{"--interface", "wsgi", "--app-dir", "/srv/site", "--", "myproject.asgi:application"}));

  s.app = "/srv/app.py:app";
  s.app_dir.clear();
  s.python = "/usr/bin/python3";
  ::setenv("PAGI_PYTHON_SDK", "/opt/py", 1);
  const auto custom = worker_argv(s, error);
  ::unsetenv("PAGI_PYTHON_SDK");
  EXPECT_EQ(custom, (std::vector<std::string>{"/usr/bin/python3", "/opt/py/bin/pagi-worker-python", "--interface",
                                              "wsgi", "--", "/srv/app.py:app"}));
}

TEST(WorkerArgv, UnknownAppIsAnError) {
  PoolSettings s;
  s.app = "app.py";
  std::string error;
  EXPECT_TRUE(worker_argv(s, error).empty());
  EXPECT_NE(error.find("app.py"), std::string::npos);
}

class RealProcessTest : public ::testing::Test {
 protected:
  RealProcessTest() {
    settings.name = "real";
    settings.workers = 1;
    settings.command = {"/proc/self/exe"};
    settings.env = {{"PAGI_FAKE_WORKER", "1"}};
    settings.heartbeat_interval = Seconds(0);
    settings.startup_timeout = Seconds(10);
    settings.stop_grace = Seconds(2);
  }

  bool run_until(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(10)) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard = boost::asio::make_work_guard(io);
  ChildReaper reaper{io};
  PoolSettings settings;
};

TEST_F(RealProcessTest, SpawnServeStopAndReap) {
  // /proc/self/exe resolves in the child to this very binary.
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  ASSERT_GT(n, 0);
  settings.command = {std::string(self, static_cast<std::size_t>(n))};
  settings.workers = 2;
  Pool pool(io, settings, make_process_launcher(reaper));
  std::optional<PoolStartResult> started;
  pool.start([&](const PoolStartResult& r) { started = r; });
  ASSERT_TRUE(run_until([&] { return started.has_value(); }));
  ASSERT_TRUE(started->ok) << started->message;

  auto ds = std::make_shared<fakes::FakeDownstream>();
  ScopeRequest r;
  r.method = "GET";
  r.path = "/";
  r.has_body = true;
  ds->upstream = pool.open_scope(r, ds);
  ASSERT_TRUE(run_until([&] { return ds->app_done_failed.has_value(); }));
  EXPECT_EQ(ds->status, 200);
  EXPECT_EQ(ds->body, "hello");

  bool stopped = false;
  pool.stop(Clock::now() + std::chrono::seconds(5), [&] { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));
  EXPECT_EQ(pool.stats().workers_alive, 0u);
  // Every child was reaped: none is left to wait for.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

TEST_F(RealProcessTest, ExecFailureFailsStart) {
  settings.command = {"/nonexistent/pagi-worker"};
  Pool pool(io, settings, make_process_launcher(reaper));
  std::optional<PoolStartResult> started;
  pool.start([&](const PoolStartResult& r) { started = r; });
  ASSERT_TRUE(run_until([&] { return started.has_value(); }));
  EXPECT_FALSE(started->ok);
  EXPECT_NE(started->message.find("/nonexistent/pagi-worker"), std::string::npos) << started->message;
  // The failed child is reaped too.
  ASSERT_TRUE(run_until([&] { return ::waitpid(-1, nullptr, WNOHANG) == -1; }));
}

TEST_F(RealProcessTest, KilledWorkerIsReplaced) {
  settings.restart_delay = Seconds(0.01);
  auto launcher = make_process_launcher(reaper);
  Pool pool(io, settings, launcher);
  std::optional<PoolStartResult> started;
  pool.start([&](const PoolStartResult& r) { started = r; });
  ASSERT_TRUE(run_until([&] { return started.has_value(); }));
  ASSERT_TRUE(started->ok) << started->message;
  // Find the child's pid through /proc: it is our only child.
  const std::string children_path = "/proc/self/task/" + std::to_string(::getpid()) + "/children";
  FILE* f = std::fopen(children_path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  int pid = 0;
  ASSERT_EQ(std::fscanf(f, "%d", &pid), 1);
  std::fclose(f);
  ::kill(pid, SIGKILL);
  ASSERT_TRUE(run_until([&] { return pool.stats().restarts == 1 && pool.stats().workers_ready == 1; }));
  bool stopped = false;
  pool.stop(Clock::now(), [&] { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));
}

// The worker dies with the gateway: a child "gateway" launches a worker and
// exits without stopping it; PR_SET_PDEATHSIG must take the worker down.
TEST(ProcessLauncher, WorkerDiesWithItsParent) {
  char self[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  ASSERT_GT(len, 0);
  // Orphans are re-parented to us, so we can watch the worker's end.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t gateway = ::fork();
  ASSERT_GE(gateway, 0);
  if (gateway == 0) {
    boost::asio::io_context io;
    ChildReaper reaper(io);
    auto launcher = make_process_launcher(reaper);
    PoolSettings s;
    s.command = {std::string(self, static_cast<std::size_t>(len))};
    s.env = {{"PAGI_FAKE_WORKER", "hold"}};
    std::string error;
    const LaunchedWorker w = launcher->launch(
        s, [](int) {}, error);
    ssize_t ignored = ::write(pipe_fds[1], &w.pid, sizeof w.pid);
    (void)ignored;
    _exit(0);  // without stopping the worker
  }
  ::close(pipe_fds[1]);
  int worker = -1;
  ASSERT_EQ(::read(pipe_fds[0], &worker, sizeof worker), static_cast<ssize_t>(sizeof worker));
  ::close(pipe_fds[0]);
  ASSERT_GT(worker, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(gateway, &status, 0), gateway);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, worker, 0));
  ASSERT_GE(pidfd, 0) << "pidfd_open";
  pollfd p{pidfd, POLLIN, 0};
  const bool died = ::poll(&p, 1, 10000) == 1;
  ::close(pidfd);
  if (!died) {
    ::kill(worker, SIGKILL);  // do not leave it behind
    ADD_FAILURE() << "worker outlived its parent";
  }
  // Reap it (re-parented to us): it ignores its socket closing, so only
  // PDEATHSIG's SIGTERM can have ended it.
  ASSERT_EQ(::waitpid(worker, &status, 0), worker);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

}  // namespace
}  // namespace pagi::workers
