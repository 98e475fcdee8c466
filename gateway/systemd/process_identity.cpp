#include "gateway/systemd/process_identity.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace pagi::gateway::systemd {

Identity resolve_identity(const std::string& user, const std::string& group) {
  Identity id;
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* pw_result = nullptr;
  if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &pw_result) != 0 || !pw_result) {
    throw std::runtime_error("user \"" + user + "\" does not exist");
  }
  id.uid = pw.pw_uid;
  id.gid = pw.pw_gid;
  id.user = user;
  if (!group.empty()) {
    struct group gr {};
    struct group* gr_result = nullptr;
    if (::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &gr_result) != 0 || !gr_result) {
      throw std::runtime_error("group \"" + group + "\" does not exist");
    }
    id.gid = gr.gr_gid;
  }
  return id;
}

void drop_privileges(const Identity& id) {
  auto fail = [](const char* step) {
    throw std::runtime_error(std::string("cannot drop privileges: ") + step + ": " + std::strerror(errno));
  };
  if (::getuid() == id.uid && ::geteuid() == id.uid && ::getgid() == id.gid) return;
  if (::initgroups(id.user.c_str(), id.gid) != 0) fail("initgroups");
  if (::setgid(id.gid) != 0) fail("setgid");
  if (::setuid(id.uid) != 0) fail("setuid");
  // A process that can get root back did not drop it.
  if (id.uid != 0 && ::setuid(0) == 0) throw std::runtime_error("cannot drop privileges: root could be regained");
}

void write_pid_file(const std::string& path) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write pid file " + temp + ": " + std::strerror(errno));
    out << ::getpid() << '\n';
    if (!out) throw std::runtime_error("cannot write pid file " + temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot write pid file " + path + ": " + std::strerror(errno));
  }
}

void remove_pid_file(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (in >> pid && pid == static_cast<long>(::getpid())) ::unlink(path.c_str());
}

}  // namespace pagi::gateway::systemd
