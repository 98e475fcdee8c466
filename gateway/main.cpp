// pagi-gateway: parse the command line, then run the Gateway library on one
// io_context until a signal stops it. Exit codes: 0 clean stop, 1 startup
// failure (the reason is printed), 2 bad command line or configuration.
#include <csignal>
#include <cstdio>
#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "gateway/config/command_line.hpp"
#include "gateway/gateway.hpp"
#include "gateway/observability/error_log.hpp"
#include "gateway/ops_runtime.hpp"
#include "gateway/reload_watcher.hpp"
#include "gateway/tls/tls_context.hpp"

int main(int argc, char** argv) {
  using namespace pagi::gateway;
  CommandLine cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const ConfigError& e) {
    std::cerr << "pagi-gateway: " << e.what() << '\n';
    return 2;
  }
  if (cl.action == CommandAction::check_config) {
    // --check-config also loads each listener's certificate, key and client CA.
    for (const auto& l : cl.config.listen) {
      if (!l.tls) continue;
      if (auto error = tls::check_tls_files(*l.tls); !error.empty()) {
        std::cerr << "pagi-gateway: listen " << l.text() << ": " << error << '\n';
        return 2;
      }
    }
  }
  if (cl.action != CommandAction::run) {
    std::cout << cl.message << '\n';
    return 0;
  }

  std::signal(SIGPIPE, SIG_IGN);  // write errors come back as EPIPE instead
  observability::setup_error_log(cl.config.log_level, cl.config.log_format);
  spdlog::info("{}", cl.message);

  // One thread runs this io_context and does all its socket I/O
  // (docs/architecture.md, top; the access log's writer thread never touches
  // it). UNSAFE_IO drops the per-descriptor mutex Asio takes around every
  // reactor operation; like hint 1 it also keeps handlers posted from the
  // loop thread in a thread-private queue. The scheduler keeps its lock, so
  // a post from another thread would still be safe.
  boost::asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  int exit_code = 0;
  // Declared before the gateway so it outlives the connections it observes.
  std::unique_ptr<OpsRuntime> ops;
  Gateway gateway(io, cl.config);
  try {
    ops = std::make_unique<OpsRuntime>(io, cl.config, gateway);
  } catch (const std::exception& e) {
    spdlog::error("startup failed: {}", e.what());
    return 1;
  }
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  bool stopping = false;

  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (!stopping) {
        stopping = true;
        spdlog::info("received {}: shutting down gracefully (again to stop now)",
                     signo == SIGINT ? "SIGINT" : "SIGTERM");
        ops->on_stopping();
        gateway.stop([&] {
          spdlog::info("stopped");
          io.stop();  // the child reaper's signal wait would keep run() going
        });
        wait_signal();
      } else {
        spdlog::warn("second signal: stopping now");
        gateway.stop_now();
        io.stop();
      }
    });
  };
  wait_signal();

  // Control signals: SIGHUP reloads (config re-read, workers replaced one at
  // a time), SIGTTIN/SIGTTOU add/remove a worker in every pool.
  boost::asio::signal_set control(io, SIGHUP, SIGTTIN, SIGTTOU);
  std::function<void()> wait_control;
  wait_control = [&] {
    control.async_wait([&](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (stopping) return;
      if (signo == SIGHUP) {
        spdlog::info("received SIGHUP: reloading");
        try {
          gateway.reload(build_config(cl.options));
        } catch (const ConfigError& e) {
          spdlog::error("reload rejected, the running configuration stays: {}", e.what());
        }
      } else {
        gateway.resize(signo == SIGTTIN ? +1 : -1);
      }
      wait_control();
    });
  };
  wait_control();

  // Sockets (inherited or bound), admin listener, privileges: before any worker.
  if (auto error = ops->prepare(); !error.empty()) {
    spdlog::error("startup failed: {}", error);
    return 1;
  }

  std::unique_ptr<ReloadWatcher> reload_watcher;  // --reload
  gateway.start([&](const std::string& error) {
    if (!error.empty()) {
      spdlog::error("startup failed: {}", error);
      exit_code = 1;
      stopping = true;
      ops->on_stopping();
      gateway.stop([&] { io.stop(); });
      return;
    }
    if (cl.options.reload) {
      try {
        reload_watcher = ReloadWatcher::start(io, reload_watch_list(cl.config, cl.options.reload_dirs));
      } catch (const std::exception& e) {
        spdlog::error("{}; serving without it", e.what());
      }
    }
    for (const auto& addr : gateway.bound_addresses()) spdlog::info("listening on {}", addr);
    ops->on_started();
  });

  io.run();
  return exit_code;
}
