// The HTTP/1 connection driver's reads (connection_driver.hpp has their
// state): when to read (backpressure), waiting on the ReadWatcher instead
// of Asio (read_watcher.hpp says why), the non-blocking recv itself, and the
// top-up read that lets a request body reach the app as one event.
#include <algorithm>
#include <cerrno>

#include <boost/asio/post.hpp>
#include <sys/socket.h>

#include "gateway/http1/connection_driver.hpp"

namespace pagi::gateway::http1 {
namespace asio = boost::asio;
using boost::system::error_code;

void Http1Connection::start_read() {
  if (reading_ || !open() || !read_allowed()) return;
  reading_ = true;
  read_hold_ = shared_from_this();
  if (readable_) post_read();
}

// Backpressure: a full buffer, or max_pipelined requests parsed ahead.
bool Http1Connection::read_allowed() {
  const bool answering = state_ == ConnectionState::exchange && exchange_;
  // A body read takes as much as the app's window allows (up to 256 KiB).
  if (answering && !input_.codec().message_done()) {
    std::uint64_t want = exchange_->request_window();
    if (const auto left = input_.codec().body_left()) want = std::min(want, *left);
    input_.set_body_window(static_cast<std::size_t>(want));
  }
  return input_.may_read(answering);
}

void Http1Connection::on_readable() {
  readable_ = true;
  if (reading_ && !read_posted_) guarded([&] { read_now(); });
}

void Http1Connection::on_watcher_closed() {
  watch_ = 0;
  stop_reading();
}

// start_read runs inside other handlers: the read itself waits for a turn.
void Http1Connection::post_read() {
  if (read_posted_) return;
  read_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->read_posted_ = false;
    self->guarded([&] { self->read_now(); });
  });
}

void Http1Connection::read_now() {
  if (!reading_ || !open()) return;
  if (!read_allowed()) return stop_reading();  // things changed since start_read
  int err = 0;
  const auto n = recv_into(input_.prepare(), err);
  if (err == EAGAIN || err == EWOULDBLOCK) return;  // wait for the watcher's next event
  if (err == EINTR) return post_read();
  const auto self = std::move(read_hold_);
  reading_ = false;
  if (err != 0) return on_read(error_code(err, boost::system::system_category()), 0);
  if (n == 0) return on_read(asio::error::eof, 0);
  on_read({}, static_cast<std::size_t>(n));
}

void Http1Connection::stop_reading() {
  reading_ = false;
  const auto self = std::move(read_hold_);  // may be the last owner: lives to the end of this call
}

// `closing`: the socket is closed next, which leaves the set by itself.
void Http1Connection::stop_watching(bool closing) {
  if (watch_ == 0) return;
  ReadWatcher::of(socket_.get_executor()).remove(watch_, closing ? -1 : socket_.native_handle());
  watch_ = 0;
}

void Http1Connection::top_up_body(std::size_t budget) {
  // Only inside a body (after its last byte the codec owes an end event).
  if (!readable_ || budget == 0 || !input_.last_read_full() || !input_.codec().mid_message()) return;
  std::uint64_t want = budget;
  if (const auto left = input_.codec().body_left()) want = std::min<std::uint64_t>(want, *left);
  if (input_.buffered_bytes() >= want) return;
  input_.set_body_window(static_cast<std::size_t>(want));
  if (!input_.may_read(true)) return;
  // Never waits. EAGAIN, EOF or an error leave it to the next read to find out.
  int err = 0;
  const auto n = recv_into(input_.prepare(), err);
  input_.commit(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (n > 0) recorder_.bytes_in(static_cast<std::uint64_t>(n));
}

// The one place bytes come off the socket. A short read or EAGAIN says it
// is drained (as nginx counts it): no read until the watcher's next event.
// Returns the bytes read, 0 at end of file, -1 with `err` set.
ssize_t Http1Connection::recv_into(boost::asio::mutable_buffer room, int& err) {
  const auto n = ::recv(socket_.native_handle(), room.data(), room.size(), MSG_DONTWAIT);
  err = n < 0 ? errno : 0;
  if (err == EAGAIN || err == EWOULDBLOCK || (n > 0 && static_cast<std::size_t>(n) < room.size())) readable_ = false;
  return n;
}

}  // namespace pagi::gateway::http1
