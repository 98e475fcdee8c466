// The HTTP/1 connection driver's behaviour (connection_driver.hpp has its
// state): what is read goes through RequestInput, one Exchange per request
// in order, the markers of written output, closing, and the one timer. The
// reads themselves (connection_read.cpp), routing, writing, reading buffers,
// the codec, exchange, heads and peer addresses live in their own files.
#include "gateway/http1/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include "gateway/http1/connection_driver.hpp"
#include "gateway/http1/peer_info.hpp"
#include "gateway/observability/request_id.hpp"
#include "gateway/sse/stream.hpp"

namespace pagi::gateway::http1 {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

Clock::duration to_duration(Seconds s) { return std::chrono::duration_cast<Clock::duration>(s); }

}  // namespace

void Http1Connection::start() {
  guarded([&] {
    peer_ = extras_ && extras_->peer ? *extras_->peer : peer_info_of(socket_);
    recorder_.connection_opened();
    error_code ec;
    socket_.native_non_blocking(true, ec);
    watch_ = ReadWatcher::of(socket_.get_executor()).add(socket_.native_handle(), *this, socket_.get_executor());
    if (watch_ == 0) {
      spdlog::error("http1 connection: cannot watch the socket for reads: {}", std::strerror(errno));
      return close_socket(DisconnectReason::server_error);
    }
    head_deadline_ = Clock::now() + to_duration(settings_.header_timeout);
    rearm_timer();
    start_read();
  });
}

void Http1Connection::shutdown_gracefully() {
  guarded([&] {
    close_after_response_ = true;
    if (state_ == ConnectionState::idle || state_ == ConnectionState::reading_head)
      close_socket(DisconnectReason::server_shutdown);
    // An event stream never ends on its own: end it now.
    else if (exchange_ && exchange_->sse_streaming())
      exchange_->on_server_close(false);
  });
}

void Http1Connection::close_now() {
  guarded([&] { close_socket(DisconnectReason::server_shutdown); });
}

// ExchangeSink
ResponseContext Http1Connection::response_context() {
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

void Http1Connection::write(std::string_view bytes, std::size_t credit) {
  if (state_ == ConnectionState::closed) return;
  out_.append(bytes, credit);
  pump_.schedule();
}

void Http1Connection::write_shared(const protocol::SharedBytes& bytes, std::size_t credit) {
  if (state_ == ConnectionState::closed) return;
  out_.append_shared(bytes, credit);
  pump_.schedule();
}

void Http1Connection::write_file(int fd, std::uint64_t offset, std::uint64_t length, std::string prefix,
                                 std::string suffix) {
  if (state_ == ConnectionState::closed) {
    ::close(fd);
    return;
  }
  if (!prefix.empty()) out_.append(prefix, 0);
  out_.append_file(fd, offset, length);
  if (!suffix.empty()) out_.append(suffix, 0);
  pump_.schedule();
}

void Http1Connection::response_head_written(std::uint16_t status, std::span<const workers::HeaderView> headers,
                                            std::size_t head_bytes) {
  recorder_.response_head(status, headers, head_bytes, false);
}

void Http1Connection::response_started() {
  request_deadline_.reset();
  rearm_timer();
}

void Http1Connection::response_queued() {
  out_.mark_response_end();
  pump_.schedule();
}

void Http1Connection::server_response(std::uint16_t status, std::uint32_t retry_after) {
  if (state_ == ConnectionState::closed || state_ == ConnectionState::closing) return;
  std::string bytes;
  if (!exchange_) observability::process_request_ids().next(request_id_);  // rejected before a scope
  write_server_response(bytes, response_context(), status, true, retry_after);
  send_gateway_answer(status, bytes);
}

void Http1Connection::abort_connection() {
  const auto self = shared_from_this();  // the exchange's hold may be the last owner
  close_socket(DisconnectReason::server_error);
}

void Http1Connection::pump_request_body() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->guarded([&] { self->process_input(); }); });
}

void Http1Connection::set_state(ConnectionState to) {
  if (to == state_) return;
  if (!is_legal_transition(state_, to)) {
    spdlog::error("http1 connection: illegal transition {} -> {}", to_string(state_), to_string(to));
    return;
  }
  state_ = to;
}

// ---- reading (the reads themselves: connection_read.cpp) ----
void Http1Connection::on_read(error_code ec, std::size_t n) {
  if (!open()) return;
  if (ec) {
    const auto reason = (ec == asio::error::eof) ? DisconnectReason::client_closed : DisconnectReason::read_error;
    close_socket(reason);
    return;
  }
  input_.commit(n);
  recorder_.bytes_in(n);
  if (state_ == ConnectionState::closing) {
    input_.discard();  // draining so our last response is not reset
  } else {
    if (state_ == ConnectionState::idle) idle_deadline_.reset();
    if (body_deadline_) body_deadline_ = Clock::now() + to_duration(settings_.body_timeout);
    process_input();
  }
  rearm_timer();
  start_read();
}

void Http1Connection::process_input() {
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

void Http1Connection::step_input() {
  while (state_ == ConnectionState::idle || state_ == ConnectionState::reading_head ||
         state_ == ConnectionState::exchange) {
    if (!exchange_) {
      const auto ev = input_.next(0);
      if (ev.kind == RequestCodec::EventKind::head) {
        begin_exchange();
        continue;
      }
      if (ev.kind == RequestCodec::EventKind::error) {
        reject_request(status_of(ev.error));
        return;
      }
      if (input_.codec().mid_message() && state_ == ConnectionState::idle) {
        set_state(ConnectionState::reading_head);
        idle_deadline_.reset();
      }
      if (state_ == ConnectionState::idle && close_after_response_) close_socket(DisconnectReason::none);
      return;
    }
    const auto ex = exchange_;
    if (input_.codec().message_done()) return;  // pipelined bytes wait for this response
    const std::size_t budget = ex->request_window();
    top_up_body(budget);
    const auto ev = input_.next(budget);
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
        if (budget == 0)
          body_deadline_.reset();
        else if (!body_deadline_)
          body_deadline_ = Clock::now() + to_duration(settings_.body_timeout);
        return;
      case RequestCodec::EventKind::blocked: body_deadline_.reset(); return;
      case RequestCodec::EventKind::error: fail_body(ev.error); return;
      case RequestCodec::EventKind::head: return;
    }
  }
}

// The first body piece rides with the open (one frame, one event for the
// app) when it is here already: a sized body (a chunked one goes after the
// open), read up to the pool's receive window. `scope.body` views the read
// buffer, valid until the next read. True when that was the whole body.
bool Http1Connection::take_body_for_open(const RequestHead& head, workers::ScopeRequest& scope) {
  if (head.chunked || head.expect_continue) return false;
  const std::size_t window = opener_.open_body_window(scope);
  if (window == 0) return false;
  top_up_body(window);
  // A sized body cannot fail to parse; anything but body bytes (none
  // buffered yet) leaves the body to the usual path after the open.
  const auto ev = input_.next(window);
  if (ev.kind != RequestCodec::EventKind::body) return false;
  scope.has_body = true;
  scope.body = ev.body;
  scope.more = !ev.last;
  if (ev.last) body_deadline_.reset();
  return ev.last;
}

void Http1Connection::begin_exchange() {
  const auto& head = input_.codec().head();
  set_state(ConnectionState::exchange);
  head_deadline_.reset();
  idle_deadline_.reset();
  request_version_ = head.version();
  head_method_ = head.is_head_method();
  client_keep_alive_ = head.keep_alive;
  if (settings_.request_timeout.count() > 0) request_deadline_ = Clock::now() + to_duration(settings_.request_timeout);
  if (head.has_body()) body_deadline_ = Clock::now() + to_duration(settings_.body_timeout);
  const auto route = router_.route(head, peer_, extras_.get(), close_after_response_, opener_, request_id_);
  switch (route.kind) {
    case Route::Kind::h2c: return hand_over_h2c(*route.scope, route.token);
    case Route::Kind::websocket: return hand_over(*route.scope, route.token);
    case Route::Kind::reject_upgrade: return reject_upgrade(route.status);
    case Route::Kind::reject: return reject_request(route.status);
    case Route::Kind::http:
    case Route::Kind::sse: break;
  }
  auto* scope = route.scope;
  const bool complete = !head.has_body() || take_body_for_open(head, *scope);
  ExchangeRequest er{head.version(), head.is_head_method(), head.expect_continue, complete};
  exchange_ = std::make_shared<Exchange>(*this, er);
  if (route.kind == Route::Kind::sse)
    exchange_->enable_sse(std::make_unique<sse::Stream>(socket_.get_executor(), settings_, *exchange_));
  recorder_.begin(*scope);
  auto upstream = opener_.open_scope(*scope, std::weak_ptr<workers::Downstream>(exchange_));
  if (exchange_) {
    exchange_->attach(std::move(upstream));
    exchange_->hold(shared_from_this());
  }
}

// The gateway's own answer: queued after whatever is owed, then close.
void Http1Connection::send_gateway_answer(std::uint16_t status, std::string_view bytes) {
  record_gateway_response(status, bytes);
  request_deadline_.reset();
  body_deadline_.reset();
  out_.append(bytes, 0);
  out_.mark_connection_end();
  set_state(ConnectionState::closing);
  pump_.schedule();
  rearm_timer();
}

// A request the gateway answers itself before any app sees it.
void Http1Connection::reject_request(std::uint16_t status) {
  client_keep_alive_ = false;
  head_method_ = false;  // facts of an earlier request on this connection do not apply
  request_version_ = 11;
  server_response(status, 0);
}

void Http1Connection::fail_body(RequestError error) {
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

void Http1Connection::pump_waiting() {
  write_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
  rearm_timer();
}

void Http1Connection::pump_progress(std::uint64_t bytes) {
  recorder_.bytes_out(bytes);
  write_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
}

void Http1Connection::pump_idle() {
  write_deadline_.reset();
  rearm_timer();
}

void Http1Connection::pump_item_done(OutputItem item) {
  const auto ex = exchange_;
  if (item.credit > 0 && ex) ex->on_body_written(item.credit);
  if (item.ends_response && ex) finish_exchange(ex);
  if (item.ends_connection) {
    if (exchange_) note_upstream(*exchange_);
    recorder_.finish(DisconnectReason::none);  // a gateway response is out
    begin_linger();
  }
}

void Http1Connection::finish_exchange(const std::shared_ptr<Exchange>& ex) {
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

void Http1Connection::end_exchange() {
  if (!exchange_) return;
  const auto self = shared_from_this();
  auto ex = std::move(exchange_);
  ex->detach();
  input_.next_message();
  request_deadline_.reset();
  body_deadline_.reset();
}

// Our last bytes are out: half-close and drain until the client closes,
// so it reads our response instead of a reset.
void Http1Connection::begin_linger() {
  error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_send, ec);
  linger_deadline_ = Clock::now() + to_duration(settings_.write_timeout);
  rearm_timer();
  start_read();
}

// ---- access log / metrics (gateway/observability) ----
void Http1Connection::note_upstream(const Exchange& ex) {
  if (const auto* up = ex.upstream(); up && recorder_.in_exchange())
    recorder_.upstream(up->pool_name(), up->worker_pid());
}

void Http1Connection::record_gateway_response(std::uint16_t status, std::string_view bytes) {
  if (!recorder_.enabled()) return;
  if (!recorder_.in_exchange()) recorder_.begin_rejected(peer_.client_host, peer_.client_port, request_id_);
  const auto head_end = bytes.find("\r\n\r\n");
  recorder_.response_head(status, {}, head_end == std::string_view::npos ? bytes.size() : head_end + 4, true);
}

void Http1Connection::close_socket(DisconnectReason reason) {
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
  stop_watching(true);
  stop_reading();
  error_code ec;
  timer_.cancel();
  socket_.close(ec);
  out_.clear();
  auto cb = std::move(on_closed_);
  on_closed_ = nullptr;
  if (cb) cb();
}

// ---- the one timer ----
void Http1Connection::rearm_timer() {
  if (!open()) return;
  timer_.rearm(
      {&head_deadline_, &idle_deadline_, &body_deadline_, &request_deadline_, &write_deadline_, &linger_deadline_},
      [this] { return [self = shared_from_this()] { self->guarded([&] { self->on_timer(); }); }; });
}

void Http1Connection::on_timer() {
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

std::shared_ptr<Connection> make_connection(StreamSocket socket, const HttpSettings& settings,
                                            workers::ScopeOpener& opener, std::function<void()> on_closed,
                                            HandoverCallback on_handover, observability::ExchangeObserver* observer,
                                            std::shared_ptr<const ConnectionExtras> extras) {
  auto c = std::make_shared<Http1Connection>(std::move(socket), settings, opener, std::move(on_closed),
                                             std::move(on_handover), observer);
  c->set_extras(std::move(extras));
  return c;
}

}  // namespace pagi::gateway::http1
