#include "workers/worker_connection.hpp"

#include <chrono>
#include <limits>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <kj/exception.h>
#include <sys/socket.h>

#include "protocol/event_validation.hpp"

namespace pagi::workers {
namespace {

namespace asio = boost::asio;

// Read at least this much per syscall; FrameReader grows beyond it for big
// frames. Sized to drain a full worker socket (its send buffer holds about
// 200 KiB) in one read: a streamed response's 16 KiB body events then cost
// one read, one decode pass and one credit write per batch, not per 64 KiB,
// and a response head and its body arrive in the same turn more often, so
// the client gets them in one write. Memory: the reader keeps two chunks of
// this size per worker connection, three for a moment (docs/architecture.md,
// "Flow control").
constexpr std::size_t read_chunk = 256 * 1024;
// A written output buffer keeps its memory up to this size for the next
// turn. A larger one (a burst of request bodies: 64 uploads of 64 KiB grew
// it to 4 MiB) is kept while turns keep needing it and released once a
// quiet period of kOutputTrimDelay went by without one: freed at every
// write, the next turn regrew it, copying at each doubling and faulting in
// fresh pages (a third of the gateway's CPU per 64 KiB echo,
// docs/benchmarks.md), yet an idle gateway does not hold its peak.
constexpr std::size_t retained_output_capacity = 512 * 1024;
constexpr std::chrono::seconds kOutputTrimDelay{1};

// asio::async_write completion condition: no cap on one write_some (the
// default cuts a write into 64 KiB syscalls, each waking the worker).
std::size_t write_all(const boost::system::error_code& ec, std::size_t) {
  return ec ? 0 : std::numeric_limits<std::size_t>::max();
}

class AsioWorkerConnection final : public WorkerConnection, public std::enable_shared_from_this<AsioWorkerConnection> {
 public:
  AsioWorkerConnection(asio::io_context& io, int fd, protocol::FrameLimits limits, WorkerConnectionListener* listener)
      : io_(io), socket_(io), reader_(limits), listener_(listener) {
    boost::system::error_code ec;
    socket_.assign(asio::local::stream_protocol(), fd, ec);
    if (ec) ::close(fd);
    socket_.non_blocking(true, ec);
  }

  void start() override {
    // From the next loop turn, so no listener call happens inside start().
    asio::post(io_, [self = shared_from_this()] { self->read(); });
  }

  std::string& output() override { return out_; }

  void flush() override {
    if (flush_posted_ || writing_ || out_.empty() || !socket_.is_open()) return;
    flush_posted_ = true;
    asio::post(io_, [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->write();
    });
  }

  void close() override {
    listener_ = nullptr;
    trim_timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    out_.clear();
  }

  bool is_open() const override { return socket_.is_open() && listener_ != nullptr; }

  std::size_t pending_output() const override { return out_.size() + in_flight_.size(); }

  std::size_t output_capacity() const override { return out_.capacity() + in_flight_.capacity(); }

 private:
  void read() {
    if (!socket_.is_open()) return;
    std::span<std::byte> space = reader_.prepare(read_chunk);
    socket_.async_read_some(
        asio::buffer(space.data(), space.size()),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (listener_ == nullptr) return;
    if (ec) {
      if (ec == asio::error::eof) {
        fail("worker closed its socket", {});
      } else {
        fail("read from worker failed", std::error_code(ec));
      }
      return;
    }
    reader_.commit(n);
    for (;;) {
      std::error_code frame_ec;
      if (!reader_.next(frame_, frame_ec)) {
        if (frame_ec) {
          fail("bad frame from worker", frame_ec);
          return;
        }
        break;
      }
      if (const std::error_code bad = protocol::validate_worker_message(frame_.root())) {
        fail("invalid message from worker", bad);
        return;
      }
      // Cap'n Proto checks pointers lazily; a read past the traversal budget
      // throws, and an exception must not leave this handler.
      try {
        listener_->on_frame(frame_);
      } catch (const kj::Exception& e) {
        fail("unreadable message from worker", make_error_code(protocol::FrameError::malformed));
        return;
      }
      if (listener_ == nullptr) return;  // the listener closed us
    }
    read();
  }

  void write() {
    if (writing_ || out_.empty() || !socket_.is_open()) return;
    writing_ = true;
    in_flight_.swap(out_);
    out_.clear();
    if (in_flight_.size() > retained_output_capacity) last_large_write_ = std::chrono::steady_clock::now();
    asio::async_write(
        socket_, asio::buffer(in_flight_), write_all,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) { self->on_written(ec); });
  }

  void on_written(const boost::system::error_code& ec) {
    writing_ = false;
    in_flight_.clear();
    if (in_flight_.capacity() > retained_output_capacity) arm_output_trim(last_large_write_ + kOutputTrimDelay);
    if (listener_ == nullptr) return;
    if (ec) {
      fail("write to worker failed", std::error_code(ec));
      return;
    }
    write();
  }

  // Releases the large buffers kOutputTrimDelay after the last large write.
  void arm_output_trim(std::chrono::steady_clock::time_point at) {
    if (trim_armed_) return;
    trim_armed_ = true;
    trim_timer_.expires_at(at);
    trim_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->trim_armed_ = false;
      if (ec || self->listener_ == nullptr) return;
      const auto due = self->last_large_write_ + kOutputTrimDelay;
      if (due > std::chrono::steady_clock::now()) return self->arm_output_trim(due);
      // in_flight_ is empty unless a write is under way; out_ holds only
      // this turn's frames.
      if (!self->writing_ && self->in_flight_.capacity() > retained_output_capacity)
        std::string().swap(self->in_flight_);
      if (self->out_.empty() && self->out_.capacity() > retained_output_capacity) std::string().swap(self->out_);
    });
  }

  void fail(std::string_view what, std::error_code ec) {
    WorkerConnectionListener* listener = listener_;
    close();
    if (listener != nullptr) listener->on_connection_closed(what, ec);
  }

  asio::io_context& io_;
  asio::local::stream_protocol::socket socket_;
  protocol::FrameReader reader_;
  protocol::Frame frame_;  // reused, so decoding does not allocate per frame
  WorkerConnectionListener* listener_;
  std::string out_;        // frames appended this turn
  std::string in_flight_;  // the buffer async_write is sending
  bool writing_ = false;
  bool flush_posted_ = false;
  asio::steady_timer trim_timer_{io_};
  bool trim_armed_ = false;
  std::chrono::steady_clock::time_point last_large_write_{};  // of more than retained_output_capacity
};

}  // namespace

void widen_send_buffer(int fd) {
  const int size = 2 * 1024 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

std::shared_ptr<WorkerConnection> WorkerConnection::create(asio::io_context& io, int fd, protocol::FrameLimits limits,
                                                           WorkerConnectionListener* listener) {
  return std::make_shared<AsioWorkerConnection>(io, fd, limits, listener);
}

}  // namespace pagi::workers
