#include "gateway/systemd/listen_fds.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

#include <sys/socket.h>

namespace pagi::gateway::systemd {

namespace {
constexpr int first_fd = 3;  // SD_LISTEN_FDS_START

std::vector<std::string> split_names(const char* text) {
  std::vector<std::string> names;
  if (!text) return names;
  std::string current;
  for (const char* p = text; *p; ++p) {
    if (*p == ':') {
      names.push_back(current);
      current.clear();
    } else {
      current += *p;
    }
  }
  names.push_back(current);
  return names;
}
}  // namespace

std::vector<InheritedSocket> take_listen_fds() {
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* fds_text = std::getenv("LISTEN_FDS");
  const auto names = split_names(std::getenv("LISTEN_FDNAMES"));
  const bool ours = pid_text && fds_text && std::atoll(pid_text) == static_cast<long long>(::getpid());
  const int count = ours ? std::atoi(fds_text) : 0;
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");

  std::vector<InheritedSocket> sockets;
  for (int i = 0; i < count; ++i) {
    const int fd = first_fd + i;
    int type = 0, listening = 0;
    sockaddr_storage addr{};
    socklen_t len = sizeof type;
    socklen_t addr_len = sizeof addr;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
      throw std::runtime_error("socket activation: fd " + std::to_string(fd) + " is not a stream socket");
    }
    len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) {
      throw std::runtime_error("socket activation: fd " + std::to_string(fd) +
                               " is not listening (Accept=no is needed in the .socket unit)");
    }
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0 ||
        (addr.ss_family != AF_INET && addr.ss_family != AF_INET6 && addr.ss_family != AF_UNIX)) {
      throw std::runtime_error("socket activation: fd " + std::to_string(fd) + " is not TCP or Unix");
    }
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    InheritedSocket s;
    s.fd = fd;
    s.family = addr.ss_family;
    if (static_cast<std::size_t>(i) < names.size()) s.name = names[static_cast<std::size_t>(i)];
    sockets.push_back(std::move(s));
  }
  return sockets;
}

}  // namespace pagi::gateway::systemd
