// systemd socket activation: the listening sockets passed as fds 3, 4, ...
// with LISTEN_FDS=N, LISTEN_PID=<our pid> and optionally
// LISTEN_FDNAMES=a:b:c. Each fd is checked to be a listening stream socket
// (TCP over IPv4/IPv6, or Unix) and gets FD_CLOEXEC so workers never inherit it.
#pragma once

#include <string>
#include <vector>

namespace pagi::gateway::systemd {

struct InheritedSocket {
  int fd = -1;
  std::string name;  // from LISTEN_FDNAMES, "" when not given
  int family = 0;    // AF_INET, AF_INET6, AF_UNIX
};

// The passed sockets, or none when LISTEN_PID is not this process. Unsets
// the variables. Throws std::runtime_error for an fd that is not a
// listening stream socket.
std::vector<InheritedSocket> take_listen_fds();

}  // namespace pagi::gateway::systemd
