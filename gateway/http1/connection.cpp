// The HTTP/1 connection driver (see connection.hpp). Kept to one protocol:
// reading requests through RequestCodec, serving each through an Exchange,
// writing the OutputQueue, and one timer for every deadline. A little over
// 500 lines because the read loop, write loop (with sendfile) and deadline
// handling share the same state; the codec, exchange, output queue, heads
// and peer addresses live in their own files.
#include "gateway/http1/connection.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <spdlog/spdlog.h>

#include "gateway/deadline_timer.hpp"
#include "gateway/http1/date_cache.hpp"
#include "gateway/http1/exchange.hpp"
#include "gateway/http1/output_queue.hpp"
#include "gateway/http1/peer_info.hpp"
#include "gateway/http1/request_codec.hpp"
#include "gateway/http1/scope_builder.hpp"
#include "gateway/observability/exchange_recorder.hpp"
#include "gateway/observability/request_id.hpp"
#include "gateway/sse/detection.hpp"
#include "gateway/sse/stream.hpp"
#include "gateway/websocket/handshake.hpp"
#include "gateway/websocket/session.hpp"

namespace pagi::gateway::http1 {
namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

Clock::duration to_duration(Seconds s) { return std::chrono::duration_cast<Clock::duration>(s); }

class Http1Connection final : public Connection,
                              public ExchangeSink,
                              public std::enable_shared_from_this<Http1Connection> {
 public:
  Http1Connection(StreamSocket socket, const HttpSettings& settings, workers::ScopeOpener& opener,
                  std::function<void()> on_closed, HandoverCallback on_handover,
                  observability::ExchangeObserver* observer)
      : recorder_(observer),
        on_handover_(std::move(on_handover)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        settings_(settings),
        opener_(opener),
        on_closed_(std::move(on_closed)),
        codec_(CodecLimits{settings.max_request_line, settings.max_header_bytes, settings.max_headers,
                           settings.max_body_bytes}),
        read_cap_(settings.max_request_line + settings.max_header_bytes + 4),
        inbuf_(read_cap_) {}

  ~Http1Connection() override {
    if (exchange_) exchange_->detach();
  }

  void set_extras(std::shared_ptr<const ConnectionExtras> extras) { extras_ = std::move(extras); }

  void start() override {
    guarded([&] {
      peer_ = extras_ && extras_->peer ? *extras_->peer : peer_info_of(socket_);
      recorder_.connection_opened();
      error_code ec;
      socket_.native_non_blocking(true, ec);
      head_deadline_ = Clock::now() + to_duration(settings_.header_timeout);
      rearm_timer();
      start_read();
    });
  }

  void shutdown_gracefully() override {
    guarded([&] {
      close_after_response_ = true;
      if (state_ == ConnectionState::idle || state_ == ConnectionState::reading_head)
        close_socket(DisconnectReason::server_shutdown);
      // An event stream never ends on its own: end it now.
      else if (exchange_ && exchange_->sse_streaming())
        exchange_->on_server_close(false);
    });
  }

  void close_now() override {
    guarded([&] { close_socket(DisconnectReason::server_shutdown); });
  }

  ConnectionState state() const override { return state_; }

  // ExchangeSink
  ResponseContext response_context() override {
    ResponseContext ctx;
    ctx.request_version = request_version_;
    ctx.head_method = head_method_;
    ctx.client_keep_alive = client_keep_alive_;
    ctx.must_close = close_after_response_;
    ctx.date = dates_.now();
    ctx.server_header = settings_.server_header;
    ctx.request_id_header = settings_.request_id_header;
    ctx.request_id = request_id_;
    return ctx;
  }
  void write(std::string_view bytes, std::size_t credit) override {
    if (state_ == ConnectionState::closed) return;
    out_.append(bytes, credit);
    schedule_flush();
  }
  void write_file(int fd, std::uint64_t offset, std::uint64_t length, std::string prefix,
                  std::string suffix) override {
    if (state_ == ConnectionState::closed) {
      ::close(fd);
      return;
    }
    if (!prefix.empty()) out_.append(prefix, 0);
    out_.append_file(fd, offset, length);
    if (!suffix.empty()) out_.append(suffix, 0);
    schedule_flush();
  }
  bool retract_unsent(std::size_t bytes) override { return out_.retract(bytes); }
  void response_head_written(std::uint16_t status, std::span<const workers::HeaderView> headers,
                             std::size_t head_bytes) override {
    recorder_.response_head(status, headers, head_bytes, false);
  }
  void response_started() override {
    request_deadline_.reset();
    rearm_timer();
  }
  void response_queued() override {
    out_.mark_response_end();
    schedule_flush();
  }
  void server_response(std::uint16_t status, std::uint32_t retry_after) override {
    if (state_ == ConnectionState::closed || state_ == ConnectionState::closing) return;
    std::string bytes;
    if (!exchange_) observability::process_request_ids().next(request_id_);  // rejected before a scope
    write_server_response(bytes, response_context(), status, true, retry_after);
    record_gateway_response(status, bytes);
    request_deadline_.reset();
    body_deadline_.reset();
    out_.append(bytes, 0);
    out_.mark_connection_end();
    set_state(ConnectionState::closing);
    schedule_flush();
    rearm_timer();
  }
  void abort_connection() override {
    const auto self = shared_from_this();  // the exchange's hold may be the last owner
    close_socket(DisconnectReason::server_error);
  }
  void pump_request_body() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->guarded([&] { self->process_input(); });
    });
  }
  std::uint32_t retry_after_seconds() const override { return settings_.retry_after_seconds; }

 private:
  // Exceptions never leave a handler: log and close (STYLE.md "avoid").
  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      spdlog::error("http1 connection: {}", e.what());
      close_socket(DisconnectReason::server_error);
    }
  }

  void set_state(ConnectionState to) {
    if (to == state_) return;
    if (!is_legal_transition(state_, to)) {
      spdlog::error("http1 connection: illegal transition {} -> {}", to_string(state_), to_string(to));
      return;
    }
    state_ = to;
  }

  bool open() const { return state_ != ConnectionState::closed; }

  // ---- reading ----
  void start_read() {
    if (reading_ || !open()) return;
    const std::size_t space = read_cap_ - inbuf_.size();
    if (space == 0) return;  // backpressure: the buffer is full until consumed
    reading_ = true;
    socket_.async_read_some(inbuf_.prepare(space), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->guarded([&] { self->on_read(ec, n); });
    });
  }

  void on_read(error_code ec, std::size_t n) {
    reading_ = false;
    if (!open()) return;
    if (ec) {
      const auto reason = (ec == asio::error::eof) ? DisconnectReason::client_closed : DisconnectReason::read_error;
      close_socket(reason);
      return;
    }
    inbuf_.commit(n);
    recorder_.bytes_in(n);
    if (state_ == ConnectionState::closing) {
      inbuf_.consume(inbuf_.size());  // draining so our last response is not reset
    } else {
      if (state_ == ConnectionState::idle) idle_deadline_.reset();
      if (body_deadline_) body_deadline_ = Clock::now() + to_duration(settings_.body_timeout);
      process_input();
    }
    rearm_timer();
    start_read();
  }

  std::string_view buffered() const {
    const auto d = inbuf_.data();
    return {static_cast<const char*>(d.data()), d.size()};
  }

  void process_input() {
    if (processing_) {
      reprocess_ = true;
      return;
    }
    processing_ = true;
    do {
      reprocess_ = false;
      step_input();
    } while (reprocess_ && open() && state_ != ConnectionState::closing);
    processing_ = false;
    rearm_timer();
    start_read();
  }

  void step_input() {
    while (state_ == ConnectionState::idle || state_ == ConnectionState::reading_head ||
           state_ == ConnectionState::exchange) {
      if (!exchange_) {
        const auto ev = codec_.feed(buffered(), 0);
        inbuf_.consume(ev.consumed);
        if (ev.kind == RequestCodec::EventKind::head) {
          begin_exchange();
          continue;
        }
        if (ev.kind == RequestCodec::EventKind::error) {
          reject_request(status_of(ev.error));
          return;
        }
        if (codec_.mid_message() && state_ == ConnectionState::idle) {
          set_state(ConnectionState::reading_head);
          idle_deadline_.reset();
        }
        if (state_ == ConnectionState::idle && close_after_response_) close_socket(DisconnectReason::none);
        return;
      }
      const auto ex = exchange_;
      if (codec_.message_done()) return;  // pipelined bytes wait for this response
      const std::size_t budget = ex->request_window();
      const auto ev = codec_.feed(buffered(), budget);
      inbuf_.consume(ev.consumed);
      switch (ev.kind) {
        case RequestCodec::EventKind::body:
          body_deadline_ = Clock::now() + to_duration(settings_.body_timeout);
          if (ev.last) body_deadline_.reset();
          ex->deliver_body(ev.body, ev.last);
          continue;
        case RequestCodec::EventKind::end:
          body_deadline_.reset();
          if (!ex->request_complete()) ex->deliver_body({}, true);
          continue;
        case RequestCodec::EventKind::need_more:
          // Waiting on the client only counts while the app could take bytes.
          if (budget == 0) body_deadline_.reset();
          else if (!body_deadline_) body_deadline_ = Clock::now() + to_duration(settings_.body_timeout);
          return;
        case RequestCodec::EventKind::blocked:
          body_deadline_.reset();
          return;
        case RequestCodec::EventKind::error:
          fail_body(ev.error);
          return;
        case RequestCodec::EventKind::head: return;
      }
    }
  }

  void begin_exchange() {
    const auto& head = codec_.head();
    set_state(ConnectionState::exchange);
    head_deadline_.reset();
    idle_deadline_.reset();
    request_version_ = head.version();
    head_method_ = head.is_head_method();
    client_keep_alive_ = head.keep_alive;
    if (settings_.request_timeout.count() > 0)
      request_deadline_ = Clock::now() + to_duration(settings_.request_timeout);
    if (head.has_body()) body_deadline_ = Clock::now() + to_duration(settings_.body_timeout);
    const workers::ScopeRequest* scope = &builder_.build(head, peer_);
    // Every scope carries a request id: the client's when valid, else a new one.
    observability::choose_request_id(scope->headers, observability::process_request_ids(), request_id_);
    id_scope_ = *scope;
    id_scope_.request_id = request_id_;
    if (extras_ && extras_->tls) {  // TLS connection (gateway/tls/)
      id_scope_.scheme = "https";
      id_scope_.tls = extras_->tls.get();
      id_scope_.extensions |= wire::EXT_TLS;
    }
    scope = &id_scope_;
    if (extras_ && extras_->h2c_upgrade && !head.has_body() && head.version() >= 11 && !close_after_response_) {
      if (auto settings = h2c_upgrade_settings(scope->headers)) return hand_over_h2c(*scope, *settings);
    }
    const auto upgrade = websocket::check_upgrade(scope->method, head.version(), scope->headers);
    if (upgrade.verdict != websocket::UpgradeVerdict::not_websocket) {
      if (upgrade.verdict == websocket::UpgradeVerdict::bad_version) return reject_upgrade(426);
      if (upgrade.verdict == websocket::UpgradeVerdict::bad_request || head.has_body()) return reject_upgrade(400);
      if (close_after_response_) return reject_request(503);
      special_scope_ = *scope;
      special_scope_.type = wire::ScopeType::WEBSOCKET;
      special_scope_.scheme = extras_ && extras_->tls ? "wss" : "ws";
      special_scope_.extensions = wire::EXT_WEBSOCKET_HTTP_RESPONSE | (scope->extensions & wire::EXT_TLS);
      special_scope_.has_body = false;
      websocket::parse_subprotocols(scope->headers, subprotocols_);
      special_scope_.subprotocols = subprotocols_;
      // A pool whose app takes no websocket scopes sees a plain request.
      if (opener_.supports(special_scope_)) return hand_over(special_scope_, upgrade.key);
    }
    bool is_sse = false;
    if (upgrade.verdict == websocket::UpgradeVerdict::not_websocket && sse::accepts_event_stream(scope->headers)) {
      special_scope_ = *scope;
      special_scope_.type = wire::ScopeType::SSE;
      // An ASGI pool has no sse scope: the request goes as plain http.
      if (opener_.supports(special_scope_)) {
        is_sse = true;
        scope = &special_scope_;
      }
    }
    ExchangeRequest er{head.version(), head.is_head_method(), head.expect_continue, !head.has_body()};
    exchange_ = std::make_shared<Exchange>(*this, er);
    if (is_sse) exchange_->enable_sse(std::make_unique<sse::Stream>(socket_.get_executor(), settings_, *exchange_));
    recorder_.begin(*scope);
    auto upstream = opener_.open_scope(*scope, std::weak_ptr<workers::Downstream>(exchange_));
    if (exchange_) {
      exchange_->attach(std::move(upstream));
      exchange_->hold(shared_from_this());
    }
  }

  // The upgrade: the socket, and any client bytes read past the request,
  // go to a websocket session; this connection ends without closing it.
  void hand_over(const workers::ScopeRequest& scope, std::string_view key) {
    const auto self = shared_from_this();
    std::string rest(buffered());
    inbuf_.consume(inbuf_.size());
    error_code ec;
    if (reading_) socket_.cancel(ec);  // its handler finds this connection closed
    timer_.cancel();
    head_deadline_.reset();
    idle_deadline_.reset();
    request_deadline_.reset();
    body_deadline_.reset();
    set_state(ConnectionState::closed);
    recorder_.connection_closed();  // the websocket session counts itself from here
    websocket::SessionStart start{std::move(socket_), std::move(rest), std::string(key), std::move(on_closed_),
                                  recorder_.observer(), recorder_.take_pending_in()};
    on_closed_ = nullptr;
    auto session = websocket::start_session(std::move(start), settings_, opener_, scope);
    if (on_handover_) on_handover_(session);
  }

  // Upgrade: h2c (RFC 7540 3.2) with one HTTP2-Settings field: its value.
  static std::optional<std::string_view> h2c_upgrade_settings(std::span<const workers::HeaderView> headers) {
    bool upgrade = false;
    std::optional<std::string_view> settings;
    for (const auto& h : headers) {
      if (h.name == "upgrade" && (h.value == "h2c" || h.value.starts_with("h2c,") || h.value.starts_with("h2c ")))
        upgrade = true;
      else if (h.name == "http2-settings")
        settings = settings ? std::nullopt : std::optional(h.value);
    }
    return upgrade ? settings : std::nullopt;
  }

  // The HTTP/2 connection takes the socket; this one ends like a WebSocket
  // handover does.
  void hand_over_h2c(const workers::ScopeRequest& scope, std::string_view http2_settings) {
    const auto self = shared_from_this();
    std::string rest(buffered());
    inbuf_.consume(inbuf_.size());
    error_code ec;
    if (reading_) socket_.cancel(ec);
    timer_.cancel();
    head_deadline_.reset();
    idle_deadline_.reset();
    request_deadline_.reset();
    body_deadline_.reset();
    set_state(ConnectionState::closed);
    recorder_.connection_closed();
    auto on_closed = std::move(on_closed_);
    on_closed_ = nullptr;
    auto next = extras_->h2c_upgrade(std::move(socket_), std::move(rest), scope, http2_settings, std::move(on_closed));
    if (on_handover_ && next) on_handover_(next);
  }

  // A broken upgrade request: 400, or 426 naming the version we speak.
  void reject_upgrade(std::uint16_t status) {
    client_keep_alive_ = false;
    std::string bytes;
    const workers::HeaderView version{"sec-websocket-version", "13"};
    websocket::write_final_response(bytes, status, status == 426 ? std::span(&version, 1)
                                                                 : std::span<const workers::HeaderView>{},
                                    "", dates_.now(), settings_.server_header);
    record_gateway_response(status, bytes);
    request_deadline_.reset();
    body_deadline_.reset();
    out_.append(bytes, 0);
    out_.mark_connection_end();
    set_state(ConnectionState::closing);
    schedule_flush();
    rearm_timer();
  }

  // A request the gateway answers itself before any app sees it.
  void reject_request(std::uint16_t status) {
    client_keep_alive_ = false;
    head_method_ = false;  // facts of an earlier request on this connection do not apply
    request_version_ = 11;
    server_response(status, 0);
  }

  void fail_body(RequestError error) {
    const auto ex = exchange_;
    ex->end_with(error == RequestError::body_too_large ? DisconnectReason::body_too_large
                                                       : DisconnectReason::protocol_error);
    if (ex->response_started()) {
      close_socket(DisconnectReason::protocol_error);
      return;
    }
    ex->mark_failed();
    server_response(status_of(error), 0);
  }

  // ---- writing ----
  void schedule_flush() {
    if (flush_posted_ || writing_) return;
    flush_posted_ = true;
    // Posted so a head and the body that arrives with it leave in one write.
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->guarded([&] { self->do_write(); });
    });
  }

  void do_write() {
    while (open() && !writing_ && !out_.empty()) {
      auto& item = out_.front();
      if (item.done()) {
        complete_front();
        continue;
      }
      if (item.is_file()) {
        if (!send_file_part(item)) return;
        continue;
      }
      writing_ = true;
      out_.set_front_in_flight(true);
      write_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
      rearm_timer();
      socket_.async_write_some(asio::buffer(item.data.data() + item.sent, item.data.size() - item.sent),
                               [self = shared_from_this()](error_code ec, std::size_t n) {
                                 self->guarded([&] { self->on_written(ec, n); });
                               });
    }
    if (out_.empty() && !writing_) {
      write_deadline_.reset();
      rearm_timer();
    }
  }

  void on_written(error_code ec, std::size_t n) {
    writing_ = false;
    if (!open()) return;
    if (ec) {
      close_socket(DisconnectReason::write_error);
      return;
    }
    out_.front().sent += n;
    recorder_.bytes_out(n);
    write_deadline_ = Clock::now() + to_duration(settings_.write_timeout);  // progress
    do_write();
  }

  // Returns false when waiting for the socket to become writable.
  bool send_file_part(OutputItem& item) {
    if (item.use_read_fallback) {
      std::string chunk(static_cast<std::size_t>(std::min<std::uint64_t>(item.file_left, read_cap_)), '\0');
      const auto got = ::pread(item.fd, chunk.data(), chunk.size(), static_cast<off_t>(item.file_offset));
      if (got <= 0) {  // the file shrank or failed: the response cannot be completed
        close_socket(DisconnectReason::server_error);
        return false;
      }
      chunk.resize(static_cast<std::size_t>(got));
      item.file_offset += static_cast<std::uint64_t>(got);
      item.file_left -= static_cast<std::uint64_t>(got);
      out_.push_front_data(std::move(chunk));
      return true;
    }
    off_t offset = static_cast<off_t>(item.file_offset);
    const auto sent = ::sendfile(socket_.native_handle(), item.fd, &offset, item.file_left);
    if (sent > 0) {
      item.file_offset = static_cast<std::uint64_t>(offset);
      item.file_left -= static_cast<std::uint64_t>(sent);
      recorder_.bytes_out(static_cast<std::uint64_t>(sent));
      write_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
      return true;
    }
    if (sent < 0 && (errno == EINVAL || errno == ENOSYS)) {
      item.use_read_fallback = true;
      return true;
    }
    if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
      writing_ = true;
      write_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
      rearm_timer();
      socket_.async_wait(asio::socket_base::wait_write, [self = shared_from_this()](error_code ec) {
        self->writing_ = false;
        if (ec) return self->guarded([&] { self->close_socket(DisconnectReason::write_error); });
        self->guarded([&] { self->do_write(); });
      });
      return false;
    }
    // sent == 0 before the end: the file shrank under us.
    close_socket(sent == 0 ? DisconnectReason::server_error : DisconnectReason::write_error);
    return false;
  }

  void complete_front() {
    OutputItem item = out_.pop_front();
    if (item.fd >= 0) ::close(item.fd);
    const auto ex = exchange_;
    if (item.credit > 0 && ex) ex->on_body_written(item.credit);
    if (item.ends_response && ex) finish_exchange(ex);
    if (item.ends_connection) {
      if (exchange_) note_upstream(*exchange_);
      recorder_.finish(DisconnectReason::none);  // a gateway response is out
      begin_linger();
    }
  }

  void finish_exchange(const std::shared_ptr<Exchange>& ex) {
    note_upstream(*ex);
    recorder_.finish(DisconnectReason::none);
    ex->on_response_flushed();
    const bool keep = ex->keep_alive() && !close_after_response_;
    end_exchange();
    if (!open()) return;
    if (!keep) {
      out_.mark_connection_end();
      set_state(ConnectionState::closing);
      return;
    }
    set_state(ConnectionState::idle);
    head_deadline_ = Clock::now() + to_duration(settings_.header_timeout);
    idle_deadline_ = Clock::now() + to_duration(settings_.keepalive_timeout);
    process_input();  // a pipelined request may be waiting
  }

  void end_exchange() {
    if (!exchange_) return;
    const auto self = shared_from_this();
    auto ex = std::move(exchange_);
    ex->detach();
    codec_.next_message();
    request_deadline_.reset();
    body_deadline_.reset();
  }

  // Our last bytes are out: half-close and drain until the client closes,
  // so it reads our response instead of a reset.
  void begin_linger() {
    error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_send, ec);
    linger_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
    rearm_timer();
    start_read();
  }

  // ---- access log / metrics (gateway/observability) ----
  void note_upstream(const Exchange& ex) {
    if (const auto* up = ex.upstream(); up && recorder_.in_exchange()) recorder_.upstream(up->pool_name(), up->worker_pid());
  }

  void record_gateway_response(std::uint16_t status, std::string_view bytes) {
    if (!recorder_.enabled()) return;
    if (!recorder_.in_exchange()) recorder_.begin_rejected(peer_.client_host, peer_.client_port, request_id_);
    const auto head_end = bytes.find("\r\n\r\n");
    recorder_.response_head(status, {}, head_end == std::string_view::npos ? bytes.size() : head_end + 4, true);
  }

  void close_socket(DisconnectReason reason) {
    if (!open()) return;
    const auto self = shared_from_this();
    if (exchange_) note_upstream(*exchange_);
    recorder_.finish(reason);
    recorder_.connection_closed();
    if (exchange_) {
      auto ex = std::move(exchange_);
      ex->end_with(reason);
      ex->detach();
    }
    set_state(ConnectionState::closed);
    error_code ec;
    timer_.cancel();
    socket_.close(ec);
    out_.clear();
    auto cb = std::move(on_closed_);
    on_closed_ = nullptr;
    if (cb) cb();
  }

  // ---- the one timer ----
  void rearm_timer() {
    if (!open()) return;
    timer_.rearm({&head_deadline_, &idle_deadline_, &body_deadline_, &request_deadline_,
                  &write_deadline_, &linger_deadline_},
                 [self = shared_from_this()] { self->guarded([&] { self->on_timer(); }); });
  }

  void on_timer() {
    if (!open()) return;
    const auto now = Clock::now();
    auto passed = [&](std::optional<Clock::time_point>& d) {
      if (!d || *d > now) return false;
      d.reset();
      return true;
    };
    if (passed(write_deadline_)) return close_socket(DisconnectReason::write_timeout);
    if (passed(linger_deadline_)) return close_socket(DisconnectReason::none);
    if (state_ == ConnectionState::idle && (passed(idle_deadline_) || passed(head_deadline_)))
      return close_socket(DisconnectReason::none);
    if (state_ == ConnectionState::reading_head && passed(head_deadline_)) return reject_request(408);
    if (exchange_ && passed(body_deadline_)) {
      const auto ex = exchange_;
      ex->end_with(DisconnectReason::client_timeout);
      if (ex->response_started()) return close_socket(DisconnectReason::client_timeout);
      ex->mark_failed();
      return server_response(408, 0);
    }
    if (exchange_ && passed(request_deadline_) && !exchange_->response_started()) {
      // The app is told (server_error: the gateway gave up on it) and the
      // client gets 504.
      const auto ex = exchange_;
      ex->end_with(DisconnectReason::server_error);
      ex->mark_failed();
      return server_response(504, 0);
    }
    rearm_timer();
  }

  observability::ExchangeRecorder recorder_;
  std::string request_id_;
  workers::ScopeRequest id_scope_;  // the built scope plus its request id
  HandoverCallback on_handover_;
  StreamSocket socket_;
  DeadlineTimer timer_;
  HttpSettings settings_;
  workers::ScopeOpener& opener_;
  std::function<void()> on_closed_;
  RequestCodec codec_;
  ScopeBuilder builder_;
  workers::ScopeRequest special_scope_;          // a websocket/sse copy of the built scope
  std::vector<std::string_view> subprotocols_;  // views into the request head
  PeerInfo peer_;
  std::shared_ptr<const ConnectionExtras> extras_;
  DateCache dates_;
  std::size_t read_cap_;
  boost::beast::flat_buffer inbuf_;
  OutputQueue out_;
  std::shared_ptr<Exchange> exchange_;
  ConnectionState state_ = ConnectionState::idle;

  int request_version_ = 11;
  bool head_method_ = false;
  bool client_keep_alive_ = false;
  bool close_after_response_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool flush_posted_ = false;
  bool processing_ = false;
  bool reprocess_ = false;

  std::optional<Clock::time_point> head_deadline_, idle_deadline_, body_deadline_, request_deadline_,
      write_deadline_, linger_deadline_;
};

}  // namespace

std::shared_ptr<Connection> make_connection(StreamSocket socket, const HttpSettings& settings,
                                            workers::ScopeOpener& opener,
                                            std::function<void()> on_closed, HandoverCallback on_handover,
                                            observability::ExchangeObserver* observer,
                                            std::shared_ptr<const ConnectionExtras> extras) {
  auto c = std::make_shared<Http1Connection>(std::move(socket), settings, opener, std::move(on_closed),
                                             std::move(on_handover), observer);
  c->set_extras(std::move(extras));
  return c;
}

}  // namespace pagi::gateway::http1
