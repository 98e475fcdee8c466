// make_cleartext_connection (connection.hpp): HTTP/2 prior knowledge on a
// cleartext listener. The first bytes are peeked, not read, so an HTTP/1
// connection gets its socket untouched. The client preface starts with
// "PRI " and no HTTP/1 method does (PROPFIND differs at the third byte), so
// four bytes decide; a client that sends fewer than four in its first
// segment is taken for HTTP/1. With `h2c: only` nothing is taken for HTTP/1:
// the bytes go to the HTTP/2 session, which answers a wrong preface with
// GOAWAY PROTOCOL_ERROR and closes (RFC 9113 3.4).
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "gateway/http2/connection.hpp"

namespace pagi::gateway::http2 {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::string_view preface_start = "PRI ";

class PrefaceDetector final : public http1::Connection, public std::enable_shared_from_this<PrefaceDetector> {
 public:
  PrefaceDetector(http1::StreamSocket socket, const HttpSettings& settings, workers::ScopeOpener& opener,
                  std::function<void()> on_closed, http1::HandoverCallback on_handover,
                  observability::ExchangeObserver* observer, bool http2_only)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        settings_(settings),
        opener_(opener),
        on_closed_(std::move(on_closed)),
        on_handover_(std::move(on_handover)),
        observer_(observer),
        http2_only_(http2_only) {}

  void start() override {
    timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(settings_.header_timeout));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->close_now();
    });
    socket_.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](error_code ec) {
      self->timer_.cancel();
      if (!self->open_) return;
      if (ec) return self->close_now();
      self->decide();
    });
  }

  void shutdown_gracefully() override { close_now(); }

  void close_now() override {
    if (!open_) return;
    open_ = false;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    if (auto cb = std::move(on_closed_)) cb();
  }

  http1::ConnectionState state() const override {
    return open_ ? http1::ConnectionState::idle : http1::ConnectionState::closed;
  }

 private:
  void decide() {
    char peek[4];
    const ssize_t n = ::recv(socket_.native_handle(), peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) {
      // EOF or error: HTTP/1 reports it the usual way (silent close).
      if (http2_only_) return close_now();
      return hand_to_http1();
    }
    if (http2_only_ ||
        (static_cast<std::size_t>(n) == preface_start.size() && std::string_view(peek, 4) == preface_start)) {
      open_ = false;
      auto conn =
          start_cleartext_connection(std::move(socket_), {}, settings_, opener_, std::move(on_closed_), observer_);
      if (on_handover_) on_handover_(conn);
      return;
    }
    hand_to_http1();
  }

  void hand_to_http1() {
    open_ = false;
    // Upgrade: h2c is offered on the same listeners as prior knowledge.
    auto extras = std::make_shared<http1::ConnectionExtras>();
    const HttpSettings* settings = &settings_;
    workers::ScopeOpener* opener = &opener_;
    auto* observer = observer_;
    extras->h2c_upgrade = [settings, opener, observer](
                              http1::StreamSocket socket, std::string rest, const workers::ScopeRequest& request,
                              std::string_view http2_settings, std::function<void()> on_closed) {
      return start_upgraded_connection(std::move(socket), std::move(rest), request, http2_settings, *settings, *opener,
                                       std::move(on_closed), observer);
    };
    auto conn = http1::make_connection(std::move(socket_), settings_, opener_, std::move(on_closed_), on_handover_,
                                       observer_, std::move(extras));
    if (on_handover_) on_handover_(conn);
    conn->start();
  }

  http1::StreamSocket socket_;
  asio::steady_timer timer_;
  const HttpSettings& settings_;
  workers::ScopeOpener& opener_;
  std::function<void()> on_closed_;
  http1::HandoverCallback on_handover_;
  observability::ExchangeObserver* observer_;
  bool http2_only_;
  bool open_ = true;
};

}  // namespace

std::shared_ptr<http1::Connection> make_cleartext_connection(http1::StreamSocket socket, const HttpSettings& settings,
                                                             workers::ScopeOpener& opener,
                                                             std::function<void()> on_closed,
                                                             http1::HandoverCallback on_handover,
                                                             observability::ExchangeObserver* observer,
                                                             bool http2_only) {
  return std::make_shared<PrefaceDetector>(std::move(socket), settings, opener, std::move(on_closed),
                                           std::move(on_handover), observer, http2_only);
}

}  // namespace pagi::gateway::http2
