#include "gateway/systemd/sd_notify.hpp"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gateway/systemd/process_identity.hpp"

namespace pagi::gateway::systemd {
namespace {

// A datagram socket bound where systemd's would be: a path or an abstract name.
class NotifySocket {
 public:
  explicit NotifySocket(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    if (name_[0] == '@')
      addr.sun_path[0] = '\0';
    else
      ::unlink(name_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
  }
  ~NotifySocket() {
    ::close(fd_);
    if (name_[0] == '/') ::unlink(name_.c_str());
  }
  std::string receive() {
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);  // blocking: the datagram was already sent
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string name_;
  int fd_;
};

TEST(SdNotify, SendsToAPathSocket) {
  const std::string path = "/tmp/pagi-nt-" + std::to_string(::getpid());
  NotifySocket sock(path);
  const Notifier n(path, std::nullopt);
  ASSERT_TRUE(n.enabled());
  ASSERT_TRUE(n.notify("READY=1\nSTATUS=ok"));
  EXPECT_EQ(sock.receive(), "READY=1\nSTATUS=ok");
  ASSERT_TRUE(n.notify("STOPPING=1"));
  EXPECT_EQ(sock.receive(), "STOPPING=1");
}

TEST(SdNotify, SendsToAnAbstractSocket) {
  const std::string name = "@pagi-nt-abstract-" + std::to_string(::getpid());
  NotifySocket sock(name);
  const Notifier n(name, std::nullopt);
  ASSERT_TRUE(n.notify("WATCHDOG=1"));
  EXPECT_EQ(sock.receive(), "WATCHDOG=1");
}

TEST(SdNotify, DisabledWithoutSocketAndEnvironmentIsConsumed) {
  EXPECT_FALSE(Notifier().notify("READY=1"));
  ::setenv("NOTIFY_SOCKET", "/tmp/x", 1);
  ::setenv("WATCHDOG_USEC", "4000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  const auto n = Notifier::from_environment();
  EXPECT_TRUE(n.enabled());
  ASSERT_TRUE(n.watchdog_period());
  EXPECT_EQ(n.watchdog_period()->count(), 2000000);
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);  // workers must not inherit it
  EXPECT_EQ(std::getenv("WATCHDOG_USEC"), nullptr);
  ::setenv("NOTIFY_SOCKET", "/tmp/x", 1);
  ::setenv("WATCHDOG_USEC", "4000000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);  // someone else's watchdog
  EXPECT_FALSE(Notifier::from_environment().watchdog_period());
}

TEST(PidFile, WrittenAndRemoved) {
  const std::string path = "/tmp/pagi-pid-" + std::to_string(::getpid());
  write_pid_file(path);
  FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  long pid = 0;
  EXPECT_EQ(std::fscanf(f, "%ld", &pid), 1);
  std::fclose(f);
  EXPECT_EQ(pid, static_cast<long>(::getpid()));
  remove_pid_file(path);
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(Identity, UnknownUserIsAnError) {
  EXPECT_THROW(resolve_identity("no-such-user-pagi", ""), std::runtime_error);
  EXPECT_THROW(resolve_identity("root", "no-such-group-pagi"), std::runtime_error);
  const auto root = resolve_identity("root", "");
  EXPECT_EQ(root.uid, 0u);
}

}  // namespace
}  // namespace pagi::gateway::systemd
