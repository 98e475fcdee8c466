#include "gateway/tls/tls_pump.hpp"

#include <vector>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace pagi::gateway::tls {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// TLS records carry at most 16 KiB of plaintext.
constexpr std::size_t record_bytes = 16 * 1024;

class TlsPump : public std::enable_shared_from_this<TlsPump> {
 public:
  TlsPump(std::unique_ptr<TlsStream> tls, http1::StreamSocket inner, const HttpSettings& settings)
      : tls_(std::move(tls)),
        inner_(std::move(inner)),
        timer_(inner_.get_executor()),
        write_timeout_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(settings.write_timeout)),
        to_app_(record_bytes),
        to_client_(record_bytes) {}

  void start() {
    read_client();
    read_app();
  }

 private:
  // client -> app
  void read_client() {
    tls_->async_read_some(asio::buffer(to_app_), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (self->closed_) return;
      if (ec) {
        // A clean end (close_notify or a bare FIN) is a half-close for the app
        // side; anything else is a broken connection.
        error_code ignored;
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
          self->inner_.shutdown(asio::socket_base::shutdown_send, ignored);
        else
          self->close_all();
        return;
      }
      asio::async_write(self->inner_, asio::buffer(self->to_app_.data(), n), [self](error_code ec, std::size_t) {
        if (self->closed_) return;
        if (ec) return self->close_all();
        self->read_client();
      });
    });
  }

  // app -> client; the one timer bounds each TLS write and the final shutdown.
  void read_app() {
    inner_.async_read_some(asio::buffer(to_client_), [self = shared_from_this()](error_code ec, std::size_t n) {
      if (self->closed_) return;
      if (ec) return self->finish();
      self->arm_timer();
      asio::async_write(*self->tls_, asio::buffer(self->to_client_.data(), n), [self](error_code ec, std::size_t) {
        self->timer_.cancel();
        if (self->closed_) return;
        if (ec) return self->close_all();
        self->read_app();
      });
    });
  }

  // The app side closed: close_notify to the client, then close.
  void finish() {
    arm_timer();
    tls_->async_shutdown([self = shared_from_this()](error_code) { self->close_all(); });
  }

  void arm_timer() {
    timer_.expires_after(write_timeout_);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->close_all();
    });
  }

  void close_all() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    tls_->lowest_layer().close(ignored);
    inner_.close(ignored);
  }

  std::unique_ptr<TlsStream> tls_;
  http1::StreamSocket inner_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::duration write_timeout_;
  std::vector<char> to_app_;
  std::vector<char> to_client_;
  bool closed_ = false;
};

}  // namespace

void start_pump(std::unique_ptr<TlsStream> tls, http1::StreamSocket inner, const HttpSettings& settings) {
  std::make_shared<TlsPump>(std::move(tls), std::move(inner), settings)->start();
}

}  // namespace pagi::gateway::tls
