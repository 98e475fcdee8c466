// Attach mode: the Unix socket a pool listens on for workers started by
// someone else (a sidecar's app container, a process manager). Accepted
// connections are handed to the pool with the peer's pid (SO_PEERCRED, for
// logs only: the gateway never signals an attached worker).
//
// The socket file: a stale socket left by a previous gateway is replaced; a
// live one (something answers) or a file that is not a socket is an error.
// Mode and owner (user or user:group) are applied after bind. close()
// removes the file, so workers see ECONNREFUSED and retry.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace pagi::workers {

struct AttachSocketOptions {
  std::string path;
  unsigned mode = 0660;
  std::string owner;  // "" = leave as created; "user" or "user:group"
};

class AttachListener {
 public:
  // fd: the accepted socket (non-blocking, close-on-exec); peer_pid 0 when unknown.
  using AcceptHandler = std::function<void(int fd, int peer_pid)>;

  // Binds and starts accepting; throws std::runtime_error with a sentence.
  static std::unique_ptr<AttachListener> open(boost::asio::io_context& io, const AttachSocketOptions& options,
                                              AcceptHandler on_accept);
  virtual ~AttachListener() = default;
  // Stops accepting and unlinks the socket file. Idempotent.
  virtual void close() = 0;
};

}  // namespace pagi::workers
