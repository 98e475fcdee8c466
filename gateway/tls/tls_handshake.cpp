#include "gateway/tls/tls_handshake.hpp"

#include <cerrno>
#include <cstring>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "gateway/http1/peer_info.hpp"
#include "gateway/tls/tls_info.hpp"
#include "gateway/tls/tls_pump.hpp"

namespace pagi::gateway::tls {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

class TlsHandshake final : public http1::Connection, public std::enable_shared_from_this<TlsHandshake> {
 public:
  TlsHandshake(http1::StreamSocket socket, const TlsServices& services, std::function<void()> on_closed,
               http1::HandoverCallback on_handover)
      : services_(services),
        timer_(socket.get_executor()),
        on_closed_(std::move(on_closed)),
        on_handover_(std::move(on_handover)) {
    peer_ = http1::peer_info_of(socket);
    stream_ = std::make_unique<TlsStream>(std::move(socket), services_.context->context());
  }

  void start() override {
    timer_.expires_after(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(services_.settings->header_timeout));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->close_now();
    });
    stream_->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
      self->timer_.cancel();
      if (!self->stream_) return;  // closed meanwhile
      if (ec) {
        spdlog::debug("tls handshake with {}: {}", self->peer_.client_host, ec.message());
        return self->close_now();
      }
      self->established();
    });
  }

  void shutdown_gracefully() override { close_now(); }

  void close_now() override {
    if (!stream_) return;
    error_code ignored;
    stream_->lowest_layer().close(ignored);
    stream_.reset();
    timer_.cancel();
    if (auto cb = std::move(on_closed_)) cb();
  }

  http1::ConnectionState state() const override {
    return stream_ ? http1::ConnectionState::reading_head : http1::ConnectionState::closed;
  }

 private:
  void established() {
    auto extras = std::make_shared<http1::ConnectionExtras>();
    extras->peer = peer_;
    extras->tls = std::make_shared<const workers::TlsScopeInfo>(describe_connection(stream_->native_handle()));
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(stream_->native_handle(), &alpn, &alpn_len);
    const std::string_view protocol(reinterpret_cast<const char*>(alpn), alpn_len);
    if (protocol == "h2" && services_.start_h2) {
      auto conn = services_.start_h2(std::move(stream_), std::move(extras), std::move(on_closed_));
      if (on_handover_) on_handover_(conn);
      return;
    }
    // HTTP/1.1: the HTTP/1 connection drives one end of a socketpair.
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) {
      spdlog::warn("tls: socketpair: {}", std::strerror(errno));
      return close_now();
    }
    auto ioc_executor = timer_.get_executor();
    const asio::generic::stream_protocol local(AF_UNIX, 0);
    http1::StreamSocket pump_end(ioc_executor, local, fds[0]);
    http1::StreamSocket app_end(ioc_executor, local, fds[1]);
    start_pump(std::move(stream_), std::move(pump_end), *services_.settings);
    auto conn = http1::make_connection(std::move(app_end), *services_.settings, *services_.opener,
                                       std::move(on_closed_), on_handover_, services_.observer, std::move(extras));
    if (on_handover_) on_handover_(conn);
    conn->start();
  }

  TlsServices services_;
  asio::steady_timer timer_;
  std::function<void()> on_closed_;
  http1::HandoverCallback on_handover_;
  http1::PeerInfo peer_;
  std::unique_ptr<TlsStream> stream_;
};

}  // namespace

std::shared_ptr<http1::Connection> make_tls_connection(http1::StreamSocket socket, const TlsServices& services,
                                                       std::function<void()> on_closed,
                                                       http1::HandoverCallback on_handover) {
  return std::make_shared<TlsHandshake>(std::move(socket), services, std::move(on_closed), std::move(on_handover));
}

}  // namespace pagi::gateway::tls
