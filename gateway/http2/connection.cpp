// The HTTP/2 connection driver (see connection.hpp), one template over the
// byte stream: a plain socket (h2c) or a TLS stream (h2).
#include "gateway/http2/connection.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include "gateway/guarded.hpp"
#include "gateway/http1/peer_info.hpp"
#include "gateway/http2/session.hpp"
#include "gateway/http2/stream.hpp"

namespace pagi::gateway::http2 {
namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

std::string_view to_string(ConnectionState s) noexcept {
  switch (s) {
    case ConnectionState::open: return "open";
    case ConnectionState::draining: return "draining";
    case ConnectionState::closed: return "closed";
  }
  return "?";
}

bool is_legal_transition(ConnectionState from, ConnectionState to) noexcept {
  if (from == ConnectionState::closed) return false;
  if (from == ConnectionState::draining) return to == ConnectionState::closed;
  return to != ConnectionState::open;
}

namespace {

Clock::duration to_duration(Seconds s) { return std::chrono::duration_cast<Clock::duration>(s); }

// Frames gathered per write: enough to fill a TLS record train and a
// socket buffer without holding much.
constexpr std::size_t write_batch_bytes = 64 * 1024;
constexpr std::size_t read_buffer_bytes = 16 * 1024;

struct PlainIo {
  http1::StreamSocket socket;
  http1::StreamSocket& stream() { return socket; }
  http1::StreamSocket& raw() { return socket; }
  void quiet_shutdown() {}
};

struct TlsIo {
  std::unique_ptr<tls::TlsStream> tls;
  tls::TlsStream& stream() { return *tls; }
  http1::StreamSocket& raw() { return tls->next_layer(); }
  // HTTP/2 frames its own end (GOAWAY); marking the TLS session shut down
  // keeps it resumable from the server's session cache.
  void quiet_shutdown() { SSL_set_shutdown(tls->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN); }
};

template <class Io>
class Http2Connection final : public http1::Connection,
                              public SessionHandler,
                              public StreamSink,
                              public std::enable_shared_from_this<Http2Connection<Io>> {
 public:
  Http2Connection(Io io, const HttpSettings& settings, workers::ScopeOpener& opener,
                  std::shared_ptr<const http1::ConnectionExtras> extras, std::function<void()> on_closed,
                  observability::ExchangeObserver* observer)
      : io_(std::move(io)),
        observer_(observer),
        timer_(io_.raw().get_executor()),
        settings_(settings),
        opener_(opener),
        extras_(std::move(extras)),
        on_closed_(std::move(on_closed)),
        session_(*this, settings_),
        inbuf_(read_buffer_bytes) {}

  ~Http2Connection() override {
    for (auto& [id, s] : streams_) s->detach();
  }

  // `received`: bytes already read from the socket (prior-knowledge preface).
  void begin(std::string received) {
    guarded([&] {
      peer_ = extras_ && extras_->peer ? *extras_->peer : http1::peer_info_of(io_.raw());
      if (observer_) observer_->on_connection_opened("http2");
      error_code ec;
      io_.raw().native_non_blocking(true, ec);
      session_.start();
      if (!received.empty()) feed(received);
      idle_since_ = Clock::now();
      rearm_timer();
      schedule_write();
      start_read();
    });
  }

  void start() override { begin({}); }

  // h2c upgrade: the 101 goes first, then our SETTINGS; stream 1 is the
  // upgrading request (already complete: it had no body).
  bool begin_upgraded(std::string rest, const workers::ScopeRequest& request, std::string_view settings_payload) {
    bool ok = false;
    guarded([&] {
      peer_ = http1::peer_info_of(io_.raw());
      if (observer_) observer_->on_connection_opened("http2");
      error_code ec;
      io_.raw().native_non_blocking(true, ec);
      if (!session_.start_upgraded(settings_payload, request.method == "HEAD")) return;
      preamble_ = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
      auto stream = std::make_shared<Stream>(*this, 1);
      streams_[1] = stream;
      std::string target(request.raw_path);
      if (!request.query_string.empty()) target.append("?").append(request.query_string);
      stream->add_header(":method", request.method);
      stream->add_header(":scheme", "http");
      stream->add_header(":path", target);
      for (const auto& h : request.headers) {
        if (h.name == "connection" || h.name == "upgrade" || h.name == "http2-settings" || h.name == "keep-alive")
          continue;
        stream->add_header(h.name, h.value);
      }
      stream->open(opener_, extras_.get(), peer_, true, std::weak_ptr<workers::Downstream>(stream));
      if (!rest.empty()) feed(rest);
      rearm_timer();
      schedule_write();
      start_read();
      ok = true;
    });
    return ok;
  }

  void shutdown_gracefully() override {
    guarded([&] {
      if (state_ != ConnectionState::open) return;
      set_state(ConnectionState::draining);
      session_.goaway(NGHTTP2_NO_ERROR);
      // Event streams never end on their own: end them now.
      for (auto& [id, s] : std::vector(streams_.begin(), streams_.end())) s->on_server_close(false);
      schedule_write();
    });
  }

  void close_now() override {
    guarded([&] { close(DisconnectReason::server_shutdown); });
  }

  http1::ConnectionState state() const override {
    switch (state_) {
      case ConnectionState::open:
        return streams_.empty() ? http1::ConnectionState::idle : http1::ConnectionState::exchange;
      case ConnectionState::draining: return http1::ConnectionState::closing;
      case ConnectionState::closed: return http1::ConnectionState::closed;
    }
    return http1::ConnectionState::closed;
  }

  // StreamSink
  Session& session() override { return session_; }
  const HttpSettings& settings() const override { return settings_; }
  asio::any_io_executor executor() override { return io_.raw().get_executor(); }
  observability::ExchangeObserver* observer() const override { return observer_; }
  void schedule_write() override {
    if (write_posted_ || state_ == ConnectionState::closed) return;
    write_posted_ = true;
    // Coalesce: every stream event of this loop turn goes out in one write.
    asio::post(io_.raw().get_executor(), [self = this->shared_from_this()] {
      self->write_posted_ = false;
      self->guarded([&] { self->flush(); });
    });
  }

  // SessionHandler
  void on_request_begin(StreamId id) override {
    streams_[id] = std::make_shared<Stream>(*this, id);
    idle_since_.reset();
  }
  void on_request_header(StreamId id, std::string_view name, std::string_view value) override {
    if (auto* s = find(id)) s->add_header(name, value);
  }
  void on_request_headers_done(StreamId id, bool end_stream) override {
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    auto stream = it->second;  // the open may answer and close it
    stream->open(opener_, extras_.get(), peer_, end_stream, std::weak_ptr<workers::Downstream>(stream));
    rearm_timer();
  }
  void on_request_data(StreamId id, std::string_view data) override {
    if (auto* s = find(id))
      s->deliver_data(data);
    else
      session_.consume_connection(data.size());
  }
  void on_request_end(StreamId id) override {
    if (auto* s = find(id)) s->request_end();
  }
  void on_stream_closed(StreamId id, std::uint32_t error_code) override {
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    auto stream = std::move(it->second);
    streams_.erase(it);
    const bool by_client = error_code == NGHTTP2_NO_ERROR || error_code == NGHTTP2_CANCEL;
    stream->closed(error_code, by_client ? DisconnectReason::client_closed : DisconnectReason::protocol_error);
    if (streams_.empty()) {
      idle_since_ = Clock::now();
      rearm_timer();
    }
  }
  void on_response_complete(StreamId id) override {
    if (auto* s = find(id)) s->response_complete();
  }
  BodyPull pull_body(StreamId id, std::span<std::uint8_t> buffer) override {
    if (auto* s = find(id)) return s->pull(buffer);
    BodyPull p;
    p.failed = true;
    return p;
  }
  void on_stream_activity(StreamId id) override {
    if (auto* s = find(id)) s->touch();
  }

 private:
  // Exceptions never leave a handler: log and close (gateway/guarded.hpp).
  template <class F>
  void guarded(F&& f) {
    gateway::guarded("http2 connection", std::forward<F>(f), [this] { close(DisconnectReason::server_error); });
  }

  void set_state(ConnectionState to) {
    if (to == state_) return;
    if (!is_legal_transition(state_, to)) {
      spdlog::error("http2 connection: illegal transition {} -> {}", to_string(state_), to_string(to));
      return;
    }
    state_ = to;
  }

  Stream* find(StreamId id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }

  void start_read() {
    if (reading_ || state_ == ConnectionState::closed) return;
    reading_ = true;
    io_.stream().async_read_some(asio::buffer(inbuf_), [self = this->shared_from_this()](error_code ec, std::size_t n) {
      self->reading_ = false;
      self->guarded([&] { self->on_read(ec, n); });
    });
  }

  void on_read(error_code ec, std::size_t n) {
    if (state_ == ConnectionState::closed) return;
    if (ec) return close(DisconnectReason::client_closed);
    feed(std::string_view(inbuf_.data(), n));
    if (state_ == ConnectionState::closed) return;
    schedule_write();
    start_read();
  }

  void feed(std::string_view bytes) {
    if (protocol_error_) return;  // after a connection error only the GOAWAY goes out
    if (!session_.receive(bytes)) {
      spdlog::debug("http2 {}: connection error: {}", peer_.client_host, session_.last_error());
      protocol_error_ = true;
      if (state_ == ConnectionState::open) set_state(ConnectionState::draining);
    }
  }

  void flush() {
    if (writing_ || state_ == ConnectionState::closed) return;
    out_.clear();
    out_.swap(preamble_);  // the 101 of an h2c upgrade precedes every frame
    if (!session_.produce(out_, write_batch_bytes)) return close(DisconnectReason::server_error);
    if (out_.empty()) {
      // Nothing left to say: done after a GOAWAY or a fatal error.
      if (protocol_error_ || (!session_.wants_read() && !session_.wants_write()))
        return close(DisconnectReason::client_closed);
      return;
    }
    writing_ = true;
    write_started_ = Clock::now();
    rearm_timer();
    asio::async_write(io_.stream(), asio::buffer(out_), [self = this->shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      self->write_started_.reset();
      self->guarded([&] {
        if (self->state_ == ConnectionState::closed) return;
        if (ec) return self->close(DisconnectReason::write_error);
        self->flush();
      });
    });
  }

  // One timer: idle, write progress and the stream stall sweep.
  void rearm_timer() {
    if (state_ == ConnectionState::closed) return;
    std::optional<Clock::time_point> next;
    auto consider = [&](Clock::time_point t) {
      if (!next || t < *next) next = t;
    };
    if (idle_since_) consider(*idle_since_ + to_duration(settings_.keepalive_timeout));
    if (write_started_) consider(*write_started_ + to_duration(settings_.write_timeout));
    if (settings_.h2_stream_timeout.count() > 0 && !streams_.empty())
      consider(Clock::now() + to_duration(settings_.h2_stream_timeout / 2));
    if (!next) return;
    if (armed_ && armed_at_ <= *next) return;  // an earlier wake-up re-arms anyway
    armed_ = true;
    armed_at_ = *next;
    timer_.expires_at(*next);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec) return;
      self->armed_ = false;
      self->guarded([&] { self->on_timer(); });
    });
  }

  void on_timer() {
    if (state_ == ConnectionState::closed) return;
    const auto now = Clock::now();
    if (write_started_ && now - *write_started_ >= to_duration(settings_.write_timeout))
      return close(DisconnectReason::write_timeout);
    if (idle_since_ && now - *idle_since_ >= to_duration(settings_.keepalive_timeout) && streams_.empty()) {
      idle_since_.reset();
      shutdown_gracefully();
    }
    if (settings_.h2_stream_timeout.count() > 0) {
      // Stalled streams are reset even while PINGs keep the connection busy.
      const auto limit = to_duration(settings_.h2_stream_timeout);
      std::vector<StreamId> stalled;
      for (auto& [id, s] : streams_)
        if (!s->tunnelled() && now - s->last_activity() >= limit) stalled.push_back(id);
      for (StreamId id : stalled) {
        spdlog::debug("http2: stream {} stalled; reset", id);
        streams_[id]->mark_stalled();
        session_.reset_stream(id, NGHTTP2_CANCEL);
      }
      if (!stalled.empty()) schedule_write();
    }
    rearm_timer();
  }

  void close(DisconnectReason reason) {
    if (state_ == ConnectionState::closed) return;
    set_state(ConnectionState::closed);
    error_code ignored;
    timer_.cancel();
    io_.quiet_shutdown();
    io_.raw().shutdown(asio::socket_base::shutdown_both, ignored);
    io_.raw().close(ignored);
    auto streams = std::move(streams_);
    streams_.clear();
    for (auto& [id, s] : streams) s->closed(NGHTTP2_CANCEL, reason);
    if (observer_) observer_->on_connection_closed("http2");
    if (auto cb = std::move(on_closed_)) cb();
  }

  Io io_;
  observability::ExchangeObserver* observer_;
  asio::steady_timer timer_;
  const HttpSettings& settings_;
  workers::ScopeOpener& opener_;
  std::shared_ptr<const http1::ConnectionExtras> extras_;
  std::function<void()> on_closed_;
  Session session_;
  http1::PeerInfo peer_;
  std::unordered_map<StreamId, std::shared_ptr<Stream>> streams_;
  std::vector<char> inbuf_;
  std::string out_;
  std::string preamble_;
  ConnectionState state_ = ConnectionState::open;
  bool reading_ = false;
  bool writing_ = false;
  bool write_posted_ = false;
  bool protocol_error_ = false;
  bool armed_ = false;
  Clock::time_point armed_at_;
  std::optional<Clock::time_point> idle_since_;
  std::optional<Clock::time_point> write_started_;
};

}  // namespace

std::shared_ptr<http1::Connection> start_tls_connection(std::unique_ptr<tls::TlsStream> stream,
                                                        const HttpSettings& settings, workers::ScopeOpener& opener,
                                                        std::shared_ptr<const http1::ConnectionExtras> extras,
                                                        std::function<void()> on_closed,
                                                        observability::ExchangeObserver* observer) {
  auto conn = std::make_shared<Http2Connection<TlsIo>>(TlsIo{std::move(stream)}, settings, opener, std::move(extras),
                                                       std::move(on_closed), observer);
  conn->begin({});
  return conn;
}

namespace {
// HTTP2-Settings is base64url without padding (RFC 7540 3.2.1).
std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-' || c == '+')
      v = 62;
    else if (c == '_' || c == '/')
      v = 63;
    else if (c == '=')
      break;
    else
      return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}
}  // namespace

std::shared_ptr<http1::Connection> start_upgraded_connection(http1::StreamSocket socket, std::string rest,
                                                             const workers::ScopeRequest& request,
                                                             std::string_view http2_settings,
                                                             const HttpSettings& settings, workers::ScopeOpener& opener,
                                                             std::function<void()> on_closed,
                                                             observability::ExchangeObserver* observer) {
  auto payload = base64url_decode(http2_settings);
  auto conn = std::make_shared<Http2Connection<PlainIo>>(PlainIo{std::move(socket)}, settings, opener, nullptr,
                                                         std::move(on_closed), observer);
  if (!payload || !conn->begin_upgraded(std::move(rest), request, *payload)) {
    conn->close_now();
    return nullptr;
  }
  return conn;
}

std::shared_ptr<http1::Connection> start_cleartext_connection(http1::StreamSocket socket, std::string received,
                                                              const HttpSettings& settings,
                                                              workers::ScopeOpener& opener,
                                                              std::function<void()> on_closed,
                                                              observability::ExchangeObserver* observer) {
  auto conn = std::make_shared<Http2Connection<PlainIo>>(PlainIo{std::move(socket)}, settings, opener, nullptr,
                                                         std::move(on_closed), observer);
  conn->begin(std::move(received));
  return conn;
}

}  // namespace pagi::gateway::http2
