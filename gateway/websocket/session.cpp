// The WebSocket session driver (session.hpp). One protocol: the handshake
// answer, the frame loop, the close handshake and the timers. The frame
// rules are in frame_codec, the handshake bytes in handshake. Somewhat over
// 500 lines: the read loop, the write queue and the close handshake share
// one state machine, split further they would share its private state.
#include "gateway/websocket/session.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <list>
#include <optional>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "gateway/deadline_timer.hpp"
#include "gateway/guarded.hpp"
#include "gateway/http1/read_watcher.hpp"
#include "gateway/observability/exchange_recorder.hpp"
#include "gateway/websocket/frame_codec.hpp"
#include "gateway/websocket/handshake.hpp"
#include "workers/downstream.hpp"

namespace pagi::gateway::websocket {
namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

std::string_view to_string(SessionState s) noexcept {
  switch (s) {
    case SessionState::handshake: return "handshake";
    case SessionState::denying: return "denying";
    case SessionState::open: return "open";
    case SessionState::closing: return "closing";
    case SessionState::closed: return "closed";
  }
  return "?";
}

bool is_legal_transition(SessionState from, SessionState to) noexcept {
  using S = SessionState;
  if (to == S::closed) return from != S::closed;
  switch (from) {
    case S::handshake: return to == S::denying || to == S::open || to == S::closing;
    case S::open: return to == S::closing;
    case S::denying:
    case S::closing:
    case S::closed: return false;
  }
  return false;
}

namespace {

Clock::duration to_duration(Seconds s) { return std::chrono::duration_cast<Clock::duration>(s); }
Clock::duration millis(std::uint32_t ms) { return std::chrono::milliseconds(ms); }

// Reads go through one buffer per thread, so an idle session holds no read
// buffer at all (the 10k-idle-connections budget). Its size is I/O
// granularity, not a limit.
constexpr std::size_t read_chunk = 64 * 1024;
std::array<char, read_chunk>& read_scratch() {
  thread_local std::array<char, read_chunk> scratch;
  return scratch;
}

struct QueuedMessage {
  bool text;
  std::string payload;
};

class Session final : public http1::Connection,
                      public workers::Downstream,
                      public http1::ReadWatcher::Reader,
                      public std::enable_shared_from_this<Session> {
 public:
  Session(SessionStart start, const HttpSettings& settings)
      : recorder_(start.observer, "websocket"),
        initial_bytes_in_(start.bytes_in),
        socket_(std::move(start.socket)),
        timer_(socket_.get_executor()),
        settings_(settings),
        decoder_(FrameLimits{settings.max_ws_message_size, settings.max_ws_frame_size}),
        carry_(std::move(start.buffered)),
        client_key_(std::move(start.client_key)),
        on_closed_(std::move(start.on_closed)) {}

  ~Session() override { stop_watching(); }

  void open(workers::ScopeOpener& opener, const workers::ScopeRequest& request) {
    hold_ = shared_from_this();  // until the app answers (nothing else may be pending)
    error_code ec;
    socket_.non_blocking(true, ec);  // read_some below must not block
    auto& watcher = http1::ReadWatcher::of(socket_.get_executor());
    watch_ = watcher.add(socket_.native_handle(), *this, socket_.get_executor());
    const int watch_errno = errno;
    recorder_.connection_opened();
    recorder_.begin(request);
    recorder_.bytes_in(initial_bytes_in_);
    upstream_ = opener.open_scope(request, std::weak_ptr<workers::Downstream>(shared_from_this()));
    if (watch_ == 0) {
      spdlog::error("websocket session: cannot watch the socket for reads: {}", std::strerror(watch_errno));
      abnormal(DisconnectReason::server_error);
      return close_socket();
    }
    wait_read();
  }

  // ---- http1::Connection (the listener's handle) ----
  void start() override {}
  void shutdown_gracefully() override {
    guarded([&] { server_close(close_code::going_away); });
  }
  void close_now() override {
    guarded([&] {
      abnormal(DisconnectReason::server_shutdown);
      close_socket();
    });
  }
  http1::ConnectionState state() const override {
    return state_ == SessionState::closed ? http1::ConnectionState::closed : http1::ConnectionState::exchange;
  }

  // ---- workers::Downstream: the handshake answer ----
  void on_websocket_accept(std::string_view subprotocol, std::span<const workers::HeaderView> headers) override {
    guarded([&] {
      if (state_ != SessionState::handshake) return;
      std::string head;
      write_accept_response(head, client_key_, subprotocol, headers, date(), settings_.server_header);
      recorder_.response_head(101, headers, head.size(), false);
      accepted_ = true;
      note_upstream();
      set_state(SessionState::open);
      hold_.reset();
      queue(head, 0);
      touch_idle();
      if (ping_interval_ms_ > 0) ping_deadline_ = Clock::now() + millis(ping_interval_ms_);
      process_input();
    });
  }
  void on_response_start(std::uint16_t status, std::span<const workers::HeaderView> headers, bool) override {
    guarded([&] {
      if (state_ != SessionState::handshake) return;  // ignored after accept (spec)
      set_state(SessionState::denying);
      denial_status_ = status;
      for (const auto& h : headers) denial_headers_.emplace_back(std::string(h.name), std::string(h.value));
    });
  }
  void on_response_body(std::string_view body, bool more) override {
    guarded([&] {
      if (state_ != SessionState::denying || denial_sent_) return;
      denial_body_.append(body);
      if (upstream_) upstream_->response_written(body.size());  // buffered here: the window moves on
      if (more) return;
      std::vector<workers::HeaderView> views;
      for (const auto& [n, v] : denial_headers_) views.push_back({n, v});
      deny(denial_status_, views, denial_body_, false);
    });
  }
  void on_response_file(std::string_view, std::uint64_t, std::int64_t) override {}
  void on_response_trailers(std::span<const workers::HeaderView>) override {}
  void on_request_credit() override {
    guarded([&] { pump_messages(); });
  }

  // ---- workers::Downstream: the open connection ----
  void on_websocket_send(bool text, std::string_view payload) override {
    guarded([&] {
      if (state_ != SessionState::open) {
        if (upstream_) upstream_->response_written(payload.size());  // never sent: no credit owed
        return;
      }
      std::string frame;
      append_frame(frame, text ? Opcode::text : Opcode::binary, payload);
      queue(frame, payload.size());
      touch_idle();
    });
  }
  void on_websocket_close(std::uint16_t code, std::string_view reason) override {
    guarded([&] {
      if (state_ == SessionState::handshake) return deny(403, {}, "", false);
      if (state_ != SessionState::open) return;
      begin_close(code, reason);
    });
  }
  void on_websocket_keepalive(std::uint32_t interval_ms, std::uint32_t timeout_ms) override {
    guarded([&] {
      ping_interval_ms_ = interval_ms;
      pong_timeout_ms_ = timeout_ms;
      pong_deadline_.reset();
      ping_deadline_.reset();
      if (state_ == SessionState::open && interval_ms > 0) ping_deadline_ = Clock::now() + millis(interval_ms);
      rearm_timer();
    });
  }
  void on_app_done(bool failed) override {
    guarded([&] {
      app_done_ = true;
      if (state_ == SessionState::handshake) return deny(failed ? 500 : 403, {}, "", failed);
      if (state_ == SessionState::open) begin_close(failed ? close_code::internal_error : close_code::normal, "");
    });
  }
  void on_upstream_error(workers::UpstreamError error) override {
    guarded([&] {
      app_done_ = true;
      disconnect_sent_ = true;  // the pool is done with this scope
      using E = workers::UpstreamError;
      if (state_ == SessionState::handshake) {
        const std::uint16_t status = error == E::worker_lost ? 502 : error == E::request_timeout ? 504 : 503;
        return deny(status, {}, "", true);
      }
      if (state_ != SessionState::open) return;
      note_reason(error == E::shutting_down ? DisconnectReason::server_shutdown : DisconnectReason::server_error);
      begin_close(error == E::shutting_down ? close_code::going_away : close_code::internal_error, "");
    });
  }
  void on_server_close(bool restart) override {
    guarded([&] { server_close(restart ? close_code::service_restart : close_code::going_away); });
  }

 private:
  // Exceptions never leave a handler: log and close (gateway/guarded.hpp).
  template <class F>
  void guarded(F&& f) {
    gateway::guarded("websocket session", std::forward<F>(f), [this] {
      abnormal(DisconnectReason::server_error);
      close_socket();
    });
  }

  void set_state(SessionState to) {
    if (to == state_) return;
    if (!is_legal_transition(state_, to)) {
      spdlog::error("websocket session: illegal transition {} -> {}", to_string(state_), to_string(to));
      return;
    }
    state_ = to;
  }

  std::string_view date() {
    date_ = http_date(static_cast<long long>(std::time(nullptr)));
    return date_;
  }

  // websocket.disconnect, once.
  void tell_app(std::uint16_t code, std::string_view reason) {
    if (disconnect_sent_ || !upstream_) return;
    disconnect_sent_ = true;
    upstream_->websocket_closed(code, reason);
  }

  // The connection ends for `reason`: the app hears it as a 1006 close.
  void abnormal(DisconnectReason reason) {
    note_reason(reason);
    tell_app(close_code::abnormal, to_string(reason));
  }
  // The access log's disconnect reason: the first abnormal end seen.
  void note_reason(DisconnectReason reason) {
    if (end_reason_ == DisconnectReason::none) end_reason_ = reason;
  }
  void note_upstream() {
    if (upstream_) recorder_.upstream(upstream_->pool_name(), upstream_->worker_pid());
  }

  // ---- ending ----
  // `by_gateway`: the gateway's own answer (an error), not the app's denial.
  void deny(std::uint16_t status, std::span<const workers::HeaderView> headers, std::string_view body,
            bool by_gateway) {
    if (state_ == SessionState::handshake) set_state(SessionState::denying);
    if (denial_sent_) return;
    denial_sent_ = true;
    hold_.reset();
    std::string bytes;
    write_final_response(bytes, status, headers, body, date(), settings_.server_header);
    const auto head_end = bytes.find("\r\n\r\n");
    recorder_.response_head(status, headers, head_end == std::string::npos ? bytes.size() : head_end + 4, by_gateway);
    note_upstream();
    queue(bytes, 0);
    finish_after_flush_ = true;
  }

  // A Close frame from us; the socket closes once the peer's Close came
  // (or close_deadline_ passed) and our bytes are out.
  void begin_close(std::uint16_t code, std::string_view reason) {
    if (state_ != SessionState::open) return;
    set_state(SessionState::closing);
    recorder_.close_code(code);
    std::string frame;
    append_close(frame, code, reason);
    queue(frame, 0);
    close_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
    ping_deadline_.reset();
    pong_deadline_.reset();
    idle_deadline_.reset();
    rearm_timer();
  }

  void server_close(std::uint16_t code) {
    if (state_ == SessionState::handshake) {
      abnormal(DisconnectReason::server_shutdown);
      return deny(503, {}, "", true);
    }
    if (state_ != SessionState::open) return;
    abnormal(DisconnectReason::server_shutdown);
    begin_close(code, "");
  }

  // The connection failed on our side of the rules: Close with the code,
  // then close once it is written.
  void fail(std::uint16_t code, DisconnectReason reason) {
    note_reason(reason);
    tell_app(code, to_string(reason));
    if (state_ == SessionState::open) begin_close(code, "");
    finish_after_flush_ = true;
    flush();
  }

  void close_socket() {
    if (state_ == SessionState::closed) return;
    const auto self = shared_from_this();
    hold_.reset();
    if (!disconnect_sent_ && state_ != SessionState::denying) abnormal(DisconnectReason::client_closed);
    set_state(SessionState::closed);
    note_upstream();
    if (accepted_) recorder_.close_code(close_code::abnormal);  // no Close frame either way
    recorder_.finish(end_reason_);
    recorder_.connection_closed();
    error_code ec;
    timer_.cancel();
    stop_watching();
    reading_ = false;
    read_hold_.reset();  // `self` above keeps this alive
    socket_.close(ec);
    pending_.clear();
    out_.clear();
    upstream_.reset();
    auto cb = std::move(on_closed_);
    on_closed_ = nullptr;
    if (cb) cb();
  }

  // Our last bytes are out: half-close and drain until the client closes.
  void linger() {
    if (lingering_) return;
    lingering_ = true;
    if (state_ == SessionState::denying && upstream_) upstream_->response_done();
    error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_send, ec);
    linger_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
    rearm_timer();
  }

  // ---- reading ----
  // Reads wait on the ReadWatcher (gateway/http1/read_watcher.hpp): no
  // epoll_ctl per message, as Asio's wait would cost. `readable_`: no short
  // read since the socket's last event. While waiting the session holds
  // itself, as a pending Asio wait would.
  void wait_read() {
    if (reading_ || state_ == SessionState::closed) return;
    reading_ = true;
    read_hold_ = shared_from_this();
    if (readable_) post_read();
  }

  void post_read() {
    if (read_posted_) return;
    read_posted_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->read_posted_ = false;
      self->read_now();
    });
  }

  // The watcher's event: bytes, end of file or an error.
  void on_readable() override {
    readable_ = true;
    if (reading_ && !read_posted_) read_now();
  }

  void on_watcher_closed() override {
    watch_ = 0;
    reading_ = false;
    const auto self = std::move(read_hold_);
  }

  void read_now() {
    if (!reading_) return;
    reading_ = false;
    const auto self = std::move(read_hold_);
    if (state_ == SessionState::closed) return;
    guarded([&] { read_available(); });
  }

  void stop_watching() {
    if (watch_ == 0) return;
    http1::ReadWatcher::of(socket_.get_executor()).remove(watch_, -1);  // the socket is closed next
    watch_ = 0;
  }

  void read_available() {
    auto& scratch = read_scratch();
    for (;;) {
      error_code ec;
      const std::size_t n = socket_.read_some(asio::buffer(scratch), ec);
      readable_ = !ec && n == scratch.size();  // a short read drained it
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) {
        if (lingering_) return close_socket();
        abnormal(ec == asio::error::eof ? DisconnectReason::client_closed : DisconnectReason::read_error);
        return close_socket();
      }
      recorder_.bytes_in(n);
      if (lingering_ || state_ == SessionState::denying) continue;  // draining
      if (state_ != SessionState::handshake) {
        feed(std::string_view(scratch.data(), n));
        if (state_ == SessionState::closed) return;
        if (n < scratch.size()) break;
        continue;
      }
      carry_.append(scratch.data(), n);
      if (carry_.size() > settings_.max_header_bytes) {
        // Frames before the 101 are not allowed; do not buffer them forever.
        abnormal(DisconnectReason::protocol_error);
        return close_socket();
      }
      if (n < scratch.size()) break;
    }
    decoder_.release_buffers();
    wait_read();
  }

  // Decodes straight from the read buffer; only an incomplete frame header
  // is kept (carry_), so an idle session holds no input bytes.
  void feed(std::string_view input) {
    if (!carry_.empty()) {
      carry_.append(input);
      const std::string pending = std::move(carry_);
      carry_.clear();
      input = pending;
      const std::size_t used = decode(input);
      if (used < input.size() && !lingering_ && state_ != SessionState::closed) carry_.assign(input.substr(used));
      return;
    }
    const std::size_t used = decode(input);
    if (used < input.size() && !lingering_ && state_ != SessionState::closed) carry_.assign(input.substr(used));
  }

  // Bytes buffered before the 101 (a client that did not wait).
  void process_input() {
    if (carry_.empty()) return;
    const std::string pending = std::move(carry_);
    carry_.clear();
    feed(pending);
  }

  // Returns the bytes of `input` used; stops at an incomplete frame or
  // when the connection stops reading frames.
  std::size_t decode(std::string_view input) {
    std::size_t used = 0;
    while ((state_ == SessionState::open || state_ == SessionState::closing) && !lingering_ && used < input.size()) {
      const auto ev = decoder_.feed(input.substr(used));
      used += ev.consumed;
      using K = FrameDecoder::Kind;
      switch (ev.kind) {
        case K::need_more: return used;
        case K::message:
          touch_idle();
          if (state_ == SessionState::open) deliver(ev.text, ev.payload);
          break;
        case K::ping:
          if (state_ == SessionState::open) {
            std::string frame;
            append_frame(frame, Opcode::pong, ev.payload);
            queue(frame, 0);
          }
          break;
        case K::pong:
          pong_deadline_.reset();
          rearm_timer();
          break;
        case K::close: on_peer_close(ev.code, ev.reason); return input.size();
        case K::error:
          spdlog::debug("websocket session: {}", websocket::to_string(ev.error));
          fail(close_code_for(ev.error), DisconnectReason::protocol_error);
          return input.size();
      }
    }
    return used;
  }

  void on_peer_close(std::uint16_t code, std::string_view reason) {
    carry_.clear();
    recorder_.close_code(code);
    tell_app(code, reason);
    if (state_ == SessionState::open) {
      set_state(SessionState::closing);
      std::string frame;
      append_close(frame, code == close_code::no_status ? 0 : code, "");
      queue(frame, 0);
    }
    finish_after_flush_ = true;
    flush();
  }

  void deliver(bool text, std::string_view payload) {
    if (!pending_.empty() || !upstream_ || upstream_->request_window() == 0) {
      if (pending_.size() >= settings_.ws_max_queue) {
        return fail(close_code::policy_violation, DisconnectReason::queue_overflow);
      }
      pending_.push_back({text, std::string(payload)});
      return;
    }
    upstream_->send_message(text, payload);
  }

  void pump_messages() {
    while (!pending_.empty() && upstream_ && state_ == SessionState::open && upstream_->request_window() > 0) {
      QueuedMessage m = std::move(pending_.front());
      pending_.pop_front();
      upstream_->send_message(m.text, m.payload);
    }
  }

  // ---- writing ----
  void queue(std::string_view bytes, std::size_t credit) {
    if (state_ == SessionState::closed) return;
    out_.append(bytes);
    out_credit_ += credit;
    flush();
  }

  void flush() {
    if (writing_ || state_ == SessionState::closed) return;
    if (out_.empty()) {
      write_deadline_.reset();
      if (finish_after_flush_ && (state_ == SessionState::denying || state_ == SessionState::closing)) linger();
      rearm_timer();
      return;
    }
    writing_ = true;
    wire_.swap(out_);
    out_.clear();
    wire_credit_ = out_credit_;
    out_credit_ = 0;
    write_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
    rearm_timer();
    asio::async_write(socket_, asio::buffer(wire_), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->writing_ = false;
      self->recorder_.bytes_out(n);
      if (self->state_ == SessionState::closed) return;
      self->guarded([&] { self->on_written(ec); });
    });
  }

  void on_written(error_code ec) {
    if (ec) {
      abnormal(DisconnectReason::write_error);
      return close_socket();
    }
    const std::size_t credit = wire_credit_;
    wire_credit_ = 0;
    // An idle session keeps no write buffer.
    std::string().swap(wire_);
    if (credit > 0 && upstream_) upstream_->response_written(credit);
    flush();
  }

  // ---- the one timer ----
  void touch_idle() {
    if (settings_.ws_idle_timeout.count() > 0 && state_ == SessionState::open) {
      idle_deadline_ = Clock::now() + to_duration(settings_.ws_idle_timeout);
      rearm_timer();
    }
  }

  void rearm_timer() {
    if (state_ == SessionState::closed) return;
    timer_.rearm(
        {&write_deadline_, &close_deadline_, &linger_deadline_, &ping_deadline_, &pong_deadline_, &idle_deadline_},
        [this] { return [self = shared_from_this()] { self->guarded([&] { self->on_timer(); }); }; });
  }

  void on_timer() {
    if (state_ == SessionState::closed) return;
    const auto now = Clock::now();
    auto passed = [&](std::optional<Clock::time_point>& d) {
      if (!d || *d > now) return false;
      d.reset();
      return true;
    };
    if (passed(write_deadline_)) {
      abnormal(DisconnectReason::write_timeout);
      return close_socket();
    }
    if (passed(linger_deadline_)) return close_socket();
    if (passed(close_deadline_)) {  // the peer never answered our Close
      abnormal(DisconnectReason::client_closed);
      return close_socket();
    }
    if (passed(pong_deadline_)) {
      abnormal(DisconnectReason::keepalive_timeout);
      return close_socket();
    }
    if (passed(idle_deadline_) && state_ == SessionState::open) {
      abnormal(DisconnectReason::idle_timeout);
      begin_close(close_code::going_away, "");
    }
    if (passed(ping_deadline_) && state_ == SessionState::open && ping_interval_ms_ > 0) {
      std::string frame;
      append_frame(frame, Opcode::ping, {});
      queue(frame, 0);
      ping_deadline_ = now + millis(ping_interval_ms_);
      if (pong_timeout_ms_ > 0 && !pong_deadline_) pong_deadline_ = now + millis(pong_timeout_ms_);
    }
    rearm_timer();
  }

  observability::ExchangeRecorder recorder_;  // declared first: the members below may report to it
  std::uint64_t initial_bytes_in_;
  DisconnectReason end_reason_ = DisconnectReason::none;
  http1::StreamSocket socket_;
  DeadlineTimer timer_;
  HttpSettings settings_;
  FrameDecoder decoder_;
  std::string carry_;  // an incomplete frame header (or bytes sent before the 101)
  std::string client_key_;
  std::function<void()> on_closed_;
  std::unique_ptr<workers::Upstream> upstream_;
  std::shared_ptr<Session> hold_;
  SessionState state_ = SessionState::handshake;
  std::string date_;

  std::list<QueuedMessage> pending_;  // waiting for the app's credit; a list: no allocation while empty
  std::string out_;                   // queued, not yet handed to a write
  std::size_t out_credit_ = 0;
  std::string wire_;  // the write in flight
  std::size_t wire_credit_ = 0;

  std::uint16_t denial_status_ = 403;
  std::vector<std::pair<std::string, std::string>> denial_headers_;
  std::string denial_body_;
  bool denial_sent_ = false;

  std::uint32_t ping_interval_ms_ = 0;
  std::uint32_t pong_timeout_ms_ = 0;
  bool reading_ = false;
  bool readable_ = false;
  bool read_posted_ = false;
  http1::ReadWatcher::Handle watch_ = 0;
  std::shared_ptr<Session> read_hold_;
  bool writing_ = false;
  bool finish_after_flush_ = false;
  bool lingering_ = false;
  bool disconnect_sent_ = false;
  bool app_done_ = false;
  bool accepted_ = false;

  std::optional<Clock::time_point> write_deadline_, close_deadline_, linger_deadline_, ping_deadline_, pong_deadline_,
      idle_deadline_;
};

}  // namespace

std::shared_ptr<http1::Connection> start_session(SessionStart start, const HttpSettings& settings,
                                                 workers::ScopeOpener& opener, const workers::ScopeRequest& request) {
  auto session = std::make_shared<Session>(std::move(start), settings);
  session->open(opener, request);
  return session;
}

}  // namespace pagi::gateway::websocket
