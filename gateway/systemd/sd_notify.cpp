#include "gateway/systemd/sd_notify.hpp"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sys/socket.h>
#include <sys/un.h>

namespace pagi::gateway::systemd {

Notifier Notifier::from_environment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  std::string path = socket ? socket : "";
  std::optional<std::chrono::microseconds> watchdog;
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* wpid = std::getenv("WATCHDOG_PID");
  if (usec) {
    const long long value = std::atoll(usec);
    const bool ours = !wpid || std::atoll(wpid) == static_cast<long long>(::getpid());
    if (value > 0 && ours) watchdog = std::chrono::microseconds(value);
  }
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  return Notifier(std::move(path), watchdog);
}

bool Notifier::notify(std::string_view state) const {
  if (socket_.empty()) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof(addr.sun_path) || (socket_[0] != '/' && socket_[0] != '@')) return false;
  std::memcpy(addr.sun_path, socket_.data(), socket_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size());
  if (socket_[0] == '@')
    addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL counted
  else
    len += 1;
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> Notifier::watchdog_period() const {
  if (!watchdog_ || socket_.empty()) return std::nullopt;
  return *watchdog_ / 2;
}

struct Watchdog::Impl : std::enable_shared_from_this<Watchdog::Impl> {
  Impl(boost::asio::io_context& io, const Notifier& n) : timer(io), notifier(n) {}
  void arm() {
    const auto period = notifier.watchdog_period();
    if (!period || stopped) return;
    timer.expires_after(*period);
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopped) return;
      self->notifier.notify("WATCHDOG=1");
      self->arm();
    });
  }
  boost::asio::steady_timer timer;
  Notifier notifier;
  bool stopped = false;
};

Watchdog::Watchdog(boost::asio::io_context& io, const Notifier& notifier)
    : impl_(std::make_shared<Impl>(io, notifier)) {}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start() {
  impl_->stopped = false;
  impl_->arm();
}

void Watchdog::stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
}

}  // namespace pagi::gateway::systemd
