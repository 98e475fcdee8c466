#include "workers/child_reaper.hpp"

#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

namespace pagi::workers {

struct ChildReaper::Signals {
  explicit Signals(boost::asio::io_context& io) : set(io, SIGCHLD) {}
  boost::asio::signal_set set;
};

ChildReaper::ChildReaper(boost::asio::io_context& io) : io_(io), signals_(std::make_unique<Signals>(io)) {}

ChildReaper::~ChildReaper() {
  boost::system::error_code ignored;
  signals_->set.cancel(ignored);
}

void ChildReaper::watch(int pid, ExitHandler on_exit) {
  handlers_[pid] = std::move(on_exit);
  if (!armed_) arm();
}

// Waits only while some child is watched, so an embedding program's
// io_context.run() returns once the gateway has stopped. SIGCHLD stays
// registered meanwhile: Asio queues a signal that arrives between waits.
void ChildReaper::arm() {
  armed_ = true;
  // The handler may outlive this object only as a cancelled operation; the
  // cancel in the destructor makes it return before touching `this`.
  signals_->set.async_wait([this](const boost::system::error_code& ec, int) {
    armed_ = false;
    if (ec) return;
    reap();
    if (!handlers_.empty()) arm();
  });
}

void ChildReaper::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;  // 0: children remain, none exited; -1: no children
    auto it = handlers_.find(pid);
    if (it == handlers_.end()) {
      spdlog::debug("reaped unknown child pid={} status={}", pid, status);
      continue;
    }
    ExitHandler handler = std::move(it->second);
    handlers_.erase(it);
    // Post so that a handler never runs inside whoever called reap().
    boost::asio::post(io_, [handler = std::move(handler), status] { handler(status); });
  }
}

}  // namespace pagi::workers
