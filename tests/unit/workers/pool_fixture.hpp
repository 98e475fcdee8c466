// Shared setup for pool tests: an io_context, a fake launcher, small
// timeouts, and run_until() to await an event with a deadline (no sleeps).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "tests/fakes/fake_downstream.hpp"
#include "tests/fakes/fake_worker_launcher.hpp"
#include "workers/pool.hpp"

namespace pagi::workers::testing {

using fakes::FakeDownstream;
using fakes::FakeWorker;
using fakes::FakeWorkerLauncher;
using fakes::FakeWorkerOptions;
using E = wire::Envelope;

class PoolTest : public ::testing::Test {
 protected:
  PoolTest() {
    settings.name = "test";
    settings.workers = 1;
    settings.concurrency = 0;
    settings.heartbeat_interval = Seconds(0);
    settings.restart_delay = Seconds(0.01);
    settings.restart_delay_max = Seconds(0.05);
    settings.queue_timeout = Seconds(0.2);
    settings.startup_timeout = Seconds(2);
    settings.shutdown_timeout = Seconds(1);
    settings.stop_grace = Seconds(0.2);
  }

  ~PoolTest() override {
    upstreams_.clear();
    pool.reset();
  }

  // Runs the loop until `done()` or the deadline; false on timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  // Creates the pool and starts it; returns the start result.
  PoolStartResult start() {
    pool = std::make_unique<Pool>(io, settings, launcher);
    std::optional<PoolStartResult> result;
    pool->start([&](const PoolStartResult& r) { result = r; });
    EXPECT_TRUE(run_until([&] { return result.has_value(); })) << "start never reported";
    return result.value_or(PoolStartResult{false, "no result", false});
  }

  void start_ok() {
    const PoolStartResult r = start();
    ASSERT_TRUE(r.ok) << r.message;
  }

  static ScopeRequest get(std::string_view path = "/") {
    ScopeRequest r;
    r.http_version = "1.1";
    r.method = "GET";
    r.scheme = "http";
    r.path = path;
    r.raw_path = path;
    r.has_body = true;
    r.body = "";
    r.more = false;
    return r;
  }

  std::shared_ptr<FakeDownstream> open(const ScopeRequest& request) {
    auto ds = std::make_shared<FakeDownstream>();
    ds->upstream = pool->open_scope(request, ds);
    return ds;
  }

  // Http scope ids a fake worker was given, in order.
  static std::vector<std::uint64_t> http_scopes(const FakeWorker& w) {
    std::vector<std::uint64_t> ids;
    for (auto m : w.received_of(E::OPEN)) {
      if (m.getOpen().getType() == wire::ScopeType::HTTP) ids.push_back(m.getScope());
    }
    return ids;
  }

  // Waits until worker `i` holds `n` http scopes; returns the last one's id.
  std::uint64_t await_scope(std::size_t i, std::size_t n = 1) {
    EXPECT_TRUE(run_until([&] {
      return launcher->workers().size() > i && http_scopes(launcher->worker(i)).size() >= n;
    })) << "worker "
        << i << " never got scope #" << n;
    auto ids = launcher->workers().size() > i ? http_scopes(launcher->worker(i)) : std::vector<std::uint64_t>{};
    return ids.size() >= n ? ids[n - 1] : 0;
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard = boost::asio::make_work_guard(io);
  std::shared_ptr<FakeWorkerLauncher> launcher = std::make_shared<FakeWorkerLauncher>(io);
  PoolSettings settings;
  std::unique_ptr<Pool> pool;

 private:
  std::vector<std::unique_ptr<Upstream>> upstreams_;
};

}  // namespace pagi::workers::testing
