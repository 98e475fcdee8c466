// Process integration beyond systemd: the pid file and dropping root
// privileges to a configured user/group once the sockets are bound.
#pragma once

#include <string>

#include <sys/types.h>

namespace pagi::gateway::systemd {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
};

// Looks the user (and group; "" = the user's primary group) up. Throws
// std::runtime_error naming what is unknown.
Identity resolve_identity(const std::string& user, const std::string& group);

// setgroups/setgid/setuid to `id`; throws std::runtime_error when any step
// fails (never continues half-dropped).
void drop_privileges(const Identity& id);

// Writes "<pid>\n" to `path` (atomically: temp file + rename); throws.
void write_pid_file(const std::string& path);
// Removes it if it still holds our pid.
void remove_pid_file(const std::string& path);

}  // namespace pagi::gateway::systemd
