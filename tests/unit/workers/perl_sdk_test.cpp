// The pool against the real Perl SDK (sdk/perl) running examples/hello:
// catches disagreements between the gateway and the SDK about the wire.
// Skipped when the SDK or its Perl modules are missing.
#include <cstdlib>
#include <optional>
#include <string>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/fakes/fake_downstream.hpp"
#include "workers/child_reaper.hpp"
#include "workers/pool.hpp"
#include "workers/process_launcher.hpp"

namespace pagi::workers {
namespace {

using Clock = std::chrono::steady_clock;

// The source tree, from this file's own (absolute) path.
std::string source_dir() {
  const std::string file = __FILE__;
  const std::string tail = "tests/unit/workers/perl_sdk_test.cpp";
  return file.size() > tail.size() ? file.substr(0, file.size() - tail.size()) : ".";
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST(PerlSdk, HelloAppRoundTripAndGracefulStop) {
  const std::string root = source_dir();
  const std::string app = root + "examples/hello/app.pl";
  if (!exists(root + "sdk/perl/bin/pagi-worker-perl") || !exists(app)) GTEST_SKIP() << "no Perl SDK";
  if (std::system("perl -MIO::Async::Loop -MFuture::AsyncAwait -e1 2>/dev/null") != 0) {
    GTEST_SKIP() << "Perl modules missing";
  }
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  ChildReaper reaper(io);
  PoolSettings settings;
  settings.name = "perl";
  settings.app = app;
  settings.workers = 1;
  settings.startup_timeout = Seconds(20);
  settings.heartbeat_interval = Seconds(0.05);
  ::setenv("PAGI_PERL_SDK", (root + "sdk/perl").c_str(), 1);
  Pool pool(io, settings, make_process_launcher(reaper));
  ::unsetenv("PAGI_PERL_SDK");

  auto run_until = [&](const std::function<bool()>& done) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
  };
  std::optional<PoolStartResult> started;
  pool.start([&](const PoolStartResult& r) { started = r; });
  ASSERT_TRUE(run_until([&] { return started.has_value(); }));
  ASSERT_TRUE(started->ok) << started->message;

  for (int i = 0; i < 3; ++i) {
    auto ds = std::make_shared<fakes::FakeDownstream>();
    ds->auto_write = true;
    ScopeRequest r;
    r.http_version = "1.1";
    r.method = "GET";
    r.scheme = "http";
    r.path = "/from-test";
    r.raw_path = "/from-test";
    r.server_host = "127.0.0.1";
    r.server_port = 80;
    r.has_body = true;
    ds->upstream = pool.open_scope(r, ds);
    ASSERT_TRUE(run_until([&] { return ds->app_done_failed.has_value() || !ds->errors.empty(); }));
    EXPECT_TRUE(ds->errors.empty());
    EXPECT_EQ(ds->status, 200);
    EXPECT_NE(ds->body.find("/from-test"), std::string::npos) << ds->body;
    EXPECT_FALSE(ds->app_done_failed.value_or(true));
  }
  EXPECT_EQ(pool.stats().restarts, 0u);

  bool stopped = false;
  pool.stop(Clock::now() + std::chrono::seconds(5), [&] { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));
}

}  // namespace
}  // namespace pagi::workers
