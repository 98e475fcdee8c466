// The sd_notify protocol, without libsystemd: datagrams such as "READY=1"
// sent to the Unix socket named by NOTIFY_SOCKET (a path, or "@name" for the
// abstract namespace), and the watchdog interval from WATCHDOG_USEC (for this
// process when WATCHDOG_PID is unset or ours). Without NOTIFY_SOCKET every
// call is a no-op, so the gateway behaves the same outside systemd.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace pagi::gateway::systemd {

class Notifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then unsets them so
  // workers do not inherit them (systemd would reject their messages anyway).
  static Notifier from_environment();
  Notifier() = default;
  Notifier(std::string socket_path, std::optional<std::chrono::microseconds> watchdog)
      : socket_(std::move(socket_path)), watchdog_(watchdog) {}

  bool enabled() const { return !socket_.empty(); }
  // One datagram, e.g. "READY=1\nSTATUS=listening". False when it could not be sent.
  bool notify(std::string_view state) const;
  // Half of WATCHDOG_USEC, the ping period systemd recommends; nullopt when off.
  std::optional<std::chrono::microseconds> watchdog_period() const;

 private:
  std::string socket_;
  std::optional<std::chrono::microseconds> watchdog_;
};

// Sends WATCHDOG=1 every watchdog_period() from the io_context: if the event
// loop hangs, the pings stop and systemd restarts the service.
class Watchdog {
 public:
  Watchdog(boost::asio::io_context& io, const Notifier& notifier);
  ~Watchdog();
  void start();
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pagi::gateway::systemd
