#include "workers/attach_listener.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdexcept>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "workers/worker_connection.hpp"

namespace pagi::workers {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

namespace {

std::string errno_text() { return std::strerror(errno); }

// Something answers on `path`: another gateway owns it.
bool socket_is_live(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return live;
}

void remove_stale(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // nothing there
  if (!S_ISSOCK(st.st_mode)) throw std::runtime_error(path + " exists and is not a socket");
  if (socket_is_live(path)) throw std::runtime_error(path + " is in use by another process");
  if (::unlink(path.c_str()) != 0)
    throw std::runtime_error("cannot remove the stale socket " + path + ": " + errno_text());
}

void apply_owner(const std::string& path, const std::string& owner) {
  if (owner.empty()) return;
  const auto colon = owner.find(':');
  const std::string user = owner.substr(0, colon);
  const std::string group_name = colon == std::string::npos ? std::string() : owner.substr(colon + 1);
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!user.empty()) {
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) throw std::runtime_error("attach_owner: no user '" + user + "'");
    uid = pw->pw_uid;
  }
  if (!group_name.empty()) {
    const struct group* gr = ::getgrnam(group_name.c_str());
    if (gr == nullptr) throw std::runtime_error("attach_owner: no group '" + group_name + "'");
    gid = gr->gr_gid;
  }
  if (::chown(path.c_str(), uid, gid) != 0)
    throw std::runtime_error("cannot chown " + path + " to " + owner + ": " + errno_text());
}

class LocalAttachListener final : public AttachListener, public std::enable_shared_from_this<LocalAttachListener> {
 public:
  LocalAttachListener(asio::io_context& io, std::string path, AcceptHandler on_accept)
      : acceptor_(io), retry_(io), path_(std::move(path)), on_accept_(std::move(on_accept)) {}
  ~LocalAttachListener() override { close(); }

  void open(const AttachSocketOptions& options) {
    if (path_.size() >= sizeof(sockaddr_un::sun_path))
      throw std::runtime_error(path_ + ": path too long for a Unix socket");
    remove_stale(path_);
    boost::system::error_code ec;
    acceptor_.open(Local(), ec);
    if (!ec) acceptor_.bind(Local::endpoint(path_), ec);
    if (ec) throw std::runtime_error("cannot listen on " + path_ + ": " + ec.message());
    bound_ = true;
    if (::chmod(path_.c_str(), options.mode) != 0)
      throw std::runtime_error("cannot chmod " + path_ + ": " + errno_text());
    apply_owner(path_, options.owner);
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + path_ + ": " + ec.message());
    ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
  }

  void start() { accept_next(); }

  void close() override {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
    if (bound_) ::unlink(path_.c_str());
  }

 private:
  void accept_next() {
    if (closed_) return;
    acceptor_.async_accept([weak = weak_from_this()](const boost::system::error_code& ec, Local::socket socket) {
      auto self = weak.lock();
      if (!self || self->closed_) return;
      if (ec) {
        // EMFILE and the like: wait a little instead of spinning.
        spdlog::warn("attach socket {}: accept failed: {}", self->path_, ec.message());
        self->retry_.expires_after(std::chrono::milliseconds(100));
        self->retry_.async_wait([weak](const boost::system::error_code& e) {
          if (auto s = weak.lock(); s && !e) s->accept_next();
        });
        return;
      }
      ucred cred{};
      socklen_t len = sizeof(cred);
      const int fd = socket.release();
      const int pid = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      widen_send_buffer(fd);
      self->accept_next();
      self->on_accept_(fd, pid);
    });
  }

  Local::acceptor acceptor_;
  asio::steady_timer retry_;
  std::string path_;
  AcceptHandler on_accept_;
  bool bound_ = false;
  bool closed_ = false;
};

// The pool owns the handle; pending accepts hold the listener itself.
class Handle final : public AttachListener {
 public:
  explicit Handle(std::shared_ptr<LocalAttachListener> impl) : impl_(std::move(impl)) {}
  ~Handle() override { impl_->close(); }
  void close() override { impl_->close(); }

 private:
  std::shared_ptr<LocalAttachListener> impl_;
};

}  // namespace

std::unique_ptr<AttachListener> AttachListener::open(asio::io_context& io, const AttachSocketOptions& options,
                                                     AcceptHandler on_accept) {
  auto impl = std::make_shared<LocalAttachListener>(io, options.path, std::move(on_accept));
  impl->open(options);
  impl->start();
  return std::make_unique<Handle>(std::move(impl));
}

}  // namespace pagi::workers
