#include "gateway/edge/proxy_header_reader.hpp"

#include <string>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

namespace pagi::gateway::edge {
namespace {
namespace asio = boost::asio;
using boost::system::error_code;

class Reader final : public ProxyHeaderRead, public std::enable_shared_from_this<Reader> {
 public:
  Reader(StreamSocket socket, ProxyHeaderDone done)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), done_(std::move(done)) {}

  void start(std::chrono::steady_clock::duration timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->fail("timed out");
    });
    step();
  }

  void cancel() override { fail(nullptr); }

 private:
  void fail(const char* why) {
    if (finished_) return;
    finished_ = true;
    if (why) spdlog::debug("PROXY protocol: {}: connection closed", why);
    error_code ec;
    timer_.cancel();
    socket_.close(ec);
  }

  void step() {
    if (finished_) return;
    const auto r = parse_proxy_header(buffer_);
    if (r.status == ProxyParseStatus::malformed) return fail("malformed header");
    if (r.status == ProxyParseStatus::done) {
      finished_ = true;
      timer_.cancel();
      auto done = std::move(done_);
      done(std::move(socket_), r.header);
      return;
    }
    if (r.length > buffer_.size()) return read_exactly(r.length - buffer_.size());
    peek_line();
  }

  void read_exactly(std::size_t n) {
    const auto old = buffer_.size();
    buffer_.resize(old + n);
    asio::async_read(socket_, asio::buffer(buffer_.data() + old, n),
                     [self = shared_from_this(), old](error_code ec, std::size_t got) {
                       if (self->finished_) return;
                       if (ec) return self->fail("connection ended in the header");
                       self->buffer_.resize(old + got);
                       self->step();
                     });
  }

  // A v1 line: look at what has arrived, take it up to the LF (or all of
  // it when the LF is not there yet: every byte before the LF is header).
  void peek_line() {
    char peeked[proxy_v1_max_line];
    const std::size_t room = proxy_v1_max_line - std::min(buffer_.size(), proxy_v1_max_line);
    if (room == 0) return fail("v1 line too long");
    const auto n = ::recv(socket_.native_handle(), peeked, room, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return fail("connection ended in the header");
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return fail("read error");
      socket_.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](error_code ec) {
        if (self->finished_) return;
        if (ec) return self->fail("read error");
        self->peek_line();
      });
      return;
    }
    const std::string_view seen(peeked, static_cast<std::size_t>(n));
    const auto lf = seen.find('\n');
    read_exactly(lf == std::string_view::npos ? seen.size() : lf + 1);
  }

  StreamSocket socket_;
  asio::steady_timer timer_;
  ProxyHeaderDone done_;
  std::string buffer_;
  bool finished_ = false;
};

}  // namespace

std::shared_ptr<ProxyHeaderRead> read_proxy_header(StreamSocket socket, std::chrono::steady_clock::duration timeout,
                                                   ProxyHeaderDone done) {
  auto reader = std::make_shared<Reader>(std::move(socket), std::move(done));
  reader->start(timeout);
  return reader;
}

}  // namespace pagi::gateway::edge
