// One worker's socket: reads frames (FrameReader), validates each one
// (validate_worker_message) and hands it to the listener; writes batched
// (frames appended to one output buffer, one write in flight, buffers
// swapped, so every frame produced in one loop turn shares a write).
//
// Lifetime (STYLE.md 6): owned by a shared_ptr that pending reads/writes keep
// alive; the owning Worker holds it too and calls close(), after which the
// listener is never called again.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "protocol/frame_codec.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::workers {

class WorkerConnectionListener {
 public:
  virtual ~WorkerConnectionListener() = default;
  // A structurally valid frame (state rules are the listener's).
  virtual void on_frame(const protocol::Frame& frame) = 0;
  // The connection is over: EOF, I/O error, framing or validation error.
  // `what` says which, for the log. Called at most once, never after close().
  virtual void on_connection_closed(std::string_view what, std::error_code ec) = 0;
};

class WorkerConnection {
 public:
  virtual ~WorkerConnection() = default;
  // Takes ownership of `fd` (a connected stream socket).
  static std::shared_ptr<WorkerConnection> create(boost::asio::io_context& io, int fd, protocol::FrameLimits limits,
                                                  WorkerConnectionListener* listener);
  // Starts reading; frames arrive from the next loop turn on.
  virtual void start() = 0;
  // The buffer to append frames to; call flush() afterwards (cheap: the write
  // starts at the end of this loop turn).
  virtual std::string& output() = 0;
  virtual void flush() = 0;
  // Closes the socket now; queued output is dropped. Idempotent.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  // Bytes queued and being written (for metrics and tests).
  virtual std::size_t pending_output() const = 0;
  // Memory the output buffers hold, written or not (for tests): a buffer
  // grown past 512 KiB keeps its memory while writes that large go on, and
  // gives it back after a second without one.
  virtual std::size_t output_capacity() const = 0;
};

// Asks for a 2 MiB send buffer on the gateway's end of a worker socket
// (spawned or attached): request bodies and many scopes' frames leave in
// one write instead of blocking at the kernel's ~208 KiB default. Linux
// doubles the value and caps it at net.core.wmem_max; failure keeps the
// default. Workers set their own end (docs/architecture.md, Flow control).
void widen_send_buffer(int fd);

}  // namespace pagi::workers
