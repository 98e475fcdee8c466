#include "gateway/http2/ws_tunnel.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "gateway/http1/connection.hpp"
#include "gateway/websocket/session.hpp"

namespace pagi::gateway::http2 {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t read_bytes = 16 * 1024;
// The session's response head is small (its fields come from the app, within
// the pool's limits); more than this without an end is not a head.
constexpr std::size_t max_head_bytes = 64 * 1024;
// Bytes read from the session but not yet in DATA frames, before reading
// pauses (the h2 stream window then holds the session back).
constexpr std::size_t max_backlog = 64 * 1024;

// Fields of an HTTP/1 response head that mean nothing on HTTP/2 (RFC 9113
// 8.2.2) or only to an HTTP/1 upgrade (RFC 8441 5).
bool dropped_field(std::string_view name, bool accepted) {
  if (name == "connection" || name == "keep-alive" || name == "transfer-encoding" || name == "upgrade") return true;
  return accepted && (name == "sec-websocket-accept" || name == "content-length");
}

class Tunnel final : public WsTunnel, public std::enable_shared_from_this<Tunnel> {
 public:
  Tunnel(http1::StreamSocket socket, TunnelOwner& owner) : socket_(std::move(socket)), owner_(&owner) {}

  void begin(std::shared_ptr<http1::Connection> session) {
    session_ = std::move(session);
    error_code ignored;
    socket_.non_blocking(true, ignored);  // read_some after the wait must not block
    read();
  }

  void client_bytes(std::string_view bytes) override {
    if (closed_) return;
    to_session_.append(bytes);
    write();
  }

  void client_end() override {
    client_ended_ = true;
    if (!writing_) half_close();
  }

  void resume() override { read(); }

  void server_close() override {
    if (auto s = session_.lock()) s->shutdown_gracefully();
  }

  void close(bool server_stop) override {
    if (closed_) return;
    if (server_stop)
      if (auto s = session_.lock()) s->close_now();
    closed_ = true;
    owner_ = nullptr;
    error_code ignored;
    socket_.close(ignored);  // the session reads end of file: the app hears 1006
  }

 private:
  void half_close() {
    error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  }

  void write() {
    if (writing_ || closed_ || to_session_.empty()) return;
    writing_ = true;
    in_flight_.swap(to_session_);
    asio::async_write(socket_, asio::buffer(in_flight_), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->writing_ = false;
      self->in_flight_.clear();
      if (self->closed_) return;
      if (ec) return self->ended();
      // Only bytes the session took reopen the client's window.
      self->owner_->tunnel_consumed(n);
      if (self->closed_) return;
      if (!self->to_session_.empty()) return self->write();
      if (self->client_ended_) self->half_close();
    });
  }

  // Waits for readability, then reads into a per-thread buffer: an idle
  // WebSocket holds no read buffer here.
  void read() {
    if (reading_ || closed_ || !owner_ || owner_->tunnel_backlog() >= max_backlog) return;
    reading_ = true;
    socket_.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](error_code ec) {
      self->reading_ = false;
      if (self->closed_) return;
      if (ec) return self->ended();
      thread_local std::array<char, read_bytes> scratch;
      const std::size_t n = self->socket_.read_some(asio::buffer(scratch), ec);
      if (ec == asio::error::would_block) return self->read();
      if (ec) return self->ended();
      self->on_bytes(std::string_view(scratch.data(), n));
      self->read();
    });
  }

  void on_bytes(std::string_view bytes) {
    if (answered_) return owner_->tunnel_bytes(bytes);
    head_.append(bytes);
    const auto end = head_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (head_.size() > max_head_bytes) ended();
      return;
    }
    answered_ = true;
    const std::string rest = head_.substr(end + 4);
    if (!answer(std::string_view(head_).substr(0, end + 2))) return ended();
    head_.clear();
    head_.shrink_to_fit();
    if (!rest.empty() && owner_) owner_->tunnel_bytes(rest);
  }

  // "HTTP/1.1 101 ...\r\n" then "Name: value\r\n" lines.
  bool answer(std::string_view head) {
    auto eol = head.find("\r\n");
    const std::string_view status_line = head.substr(0, eol);
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return false;
    const int code = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    if (code < 100 || code > 599) return false;
    const bool accepted = code == 101;
    std::vector<std::pair<std::string, std::string>> fields;
    for (std::size_t at = eol + 2; at < head.size(); at = eol + 2) {
      eol = head.find("\r\n", at);
      const std::string_view line = head.substr(at, eol - at);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) return false;
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      if (!dropped_field(name, accepted)) fields.emplace_back(std::move(name), std::string(value));
    }
    std::vector<workers::HeaderView> views;
    views.reserve(fields.size());
    for (const auto& [n, v] : fields) views.push_back({n, v});
    owner_->tunnel_head(accepted ? 200 : static_cast<std::uint16_t>(code), views);
    return true;
  }

  // The session closed its end (or the socketpair broke).
  void ended() {
    if (closed_) return;
    auto* owner = owner_;
    const bool answered = answered_;
    close(false);
    if (owner) owner->tunnel_ended(answered);
  }

  http1::StreamSocket socket_;
  TunnelOwner* owner_;
  std::weak_ptr<http1::Connection> session_;
  std::string head_;
  std::string to_session_, in_flight_;
  bool answered_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool client_ended_ = false;
  bool closed_ = false;
};

}  // namespace

std::shared_ptr<WsTunnel> WsTunnel::start(asio::any_io_executor executor, TunnelOwner& owner,
                                          const HttpSettings& settings, workers::ScopeOpener& opener,
                                          const workers::ScopeRequest& request) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) {
    spdlog::warn("http2 websocket: socketpair: {}", std::strerror(errno));
    return nullptr;
  }
  const asio::generic::stream_protocol local(AF_UNIX, 0);
  http1::StreamSocket tunnel_end(executor, local, fds[0]);
  http1::StreamSocket session_end(executor, local, fds[1]);
  auto tunnel = std::make_shared<Tunnel>(std::move(tunnel_end), owner);
  // The key only feeds Sec-WebSocket-Accept, which HTTP/2 does not send.
  websocket::SessionStart start{std::move(session_end), {}, {}, nullptr};
  tunnel->begin(websocket::start_session(std::move(start), settings, opener, request));
  return tunnel;
}

}  // namespace pagi::gateway::http2
