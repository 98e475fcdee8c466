// Http1Connection, the HTTP/1 connection driver behind make_connection
// (connection.hpp): its state and its parts. One per accepted socket: it
// reads requests through RequestInput, routes each head (RequestRouter) to
// an Exchange or a socket handover, writes through WritePump, and keeps one
// timer for every deadline. Private to gateway/http1; connection.cpp,
// connection_read.cpp and connection_upgrade.cpp define the behaviour.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "gateway/deadline_timer.hpp"
#include "gateway/guarded.hpp"
#include "gateway/http1/connection.hpp"
#include "gateway/http1/date_cache.hpp"
#include "gateway/http1/exchange.hpp"
#include "gateway/http1/output_queue.hpp"
#include "gateway/http1/read_watcher.hpp"
#include "gateway/http1/request_input.hpp"
#include "gateway/http1/request_route.hpp"
#include "gateway/http1/write_pump.hpp"
#include "gateway/observability/exchange_recorder.hpp"

namespace pagi::gateway::http1 {

using Clock = std::chrono::steady_clock;

class Http1Connection final : public Connection,
                              public ExchangeSink,
                              public WritePump::Host,
                              public ReadWatcher::Reader,
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
        input_(settings),
        pump_(socket_, out_, input_.capacity(), *this) {}

  ~Http1Connection() override {
    if (exchange_) exchange_->detach();
    stop_watching(true);
  }

  void set_extras(std::shared_ptr<const ConnectionExtras> extras) { extras_ = std::move(extras); }

  void start() override;
  void shutdown_gracefully() override;
  void close_now() override;
  ConnectionState state() const override { return state_; }
  std::size_t pipelined_requests() const override { return input_.pipelined(); }

  // ExchangeSink
  ResponseContext response_context() override;
  void write(std::string_view bytes, std::size_t credit) override;
  void write_shared(const protocol::SharedBytes& bytes, std::size_t credit) override;
  void write_file(int fd, std::uint64_t offset, std::uint64_t length, std::string prefix, std::string suffix) override;
  bool retract_unsent(std::size_t bytes) override { return out_.retract(bytes); }
  void response_head_written(std::uint16_t status, std::span<const workers::HeaderView> headers,
                             std::size_t head_bytes) override;
  void response_started() override;
  void response_queued() override;
  void server_response(std::uint16_t status, std::uint32_t retry_after) override;
  void abort_connection() override;
  void pump_request_body() override;
  std::uint32_t retry_after_seconds() const override { return settings_.retry_after_seconds; }

 private:
  // Exceptions never leave a handler: log and close (gateway/guarded.hpp).
  template <class F>
  void guarded(F&& f) {
    gateway::guarded("http1 connection", std::forward<F>(f), [this] { close_socket(DisconnectReason::server_error); });
  }

  void set_state(ConnectionState to);
  bool open() const { return state_ != ConnectionState::closed; }

  // ---- reading ----
  // Reads wait on the ReadWatcher, not on Asio (read_watcher.hpp says why):
  // `reading_` says a read is wanted, `readable_` that the socket may hold
  // bytes (no short read since its last event). While reading, the
  // connection holds itself, as a pending Asio read would.
  void start_read();
  bool read_allowed();
  void on_readable() override;
  void on_watcher_closed() override;
  void post_read();
  void read_now();
  void stop_reading();
  void stop_watching(bool closing);
  ssize_t recv_into(boost::asio::mutable_buffer room, int& err);
  void on_read(boost::system::error_code ec, std::size_t n);
  void process_input();
  void step_input();
  // Before a body event: the last read filled the buffer (a head read stops
  // at the head buffer's size), so read what the socket holds now, up to
  // the app's window, and the body goes to the app as one event.
  void top_up_body(std::size_t budget);
  bool take_body_for_open(const RequestHead& head, workers::ScopeRequest& scope);
  void begin_exchange();

  // Ends this connection without closing its socket, for whoever takes the
  // socket over; returns the client bytes read past the request.
  std::string release_socket();

  // The upgrade: the socket, and any client bytes read past the request,
  // go to a websocket session; this connection ends without closing it.
  void hand_over(const workers::ScopeRequest& scope, std::string_view key);

  // The HTTP/2 connection takes the socket; this one ends like a WebSocket
  // handover does.
  void hand_over_h2c(const workers::ScopeRequest& scope, std::string_view http2_settings);

  // A broken upgrade request: 400, or 426 naming the version we speak.
  void reject_upgrade(std::uint16_t status);

  // The gateway's own answer: queued after whatever is owed, then close.
  void send_gateway_answer(std::uint16_t status, std::string_view bytes);

  // A request the gateway answers itself before any app sees it.
  void reject_request(std::uint16_t status);
  void fail_body(RequestError error);

  // ---- the write pump's host: markers of written items take effect ----
  std::shared_ptr<void> pump_owner() override { return shared_from_this(); }
  bool pump_open() const override { return open(); }
  void pump_failed(DisconnectReason reason) override { close_socket(reason); }
  void pump_waiting() override;
  void pump_progress(std::uint64_t bytes) override;
  void pump_idle() override;
  void pump_item_done(OutputItem item) override;
  void finish_exchange(const std::shared_ptr<Exchange>& ex);
  void end_exchange();

  // Our last bytes are out: half-close and drain until the client closes,
  // so it reads our response instead of a reset.
  void begin_linger();

  // ---- access log / metrics (gateway/observability) ----
  void note_upstream(const Exchange& ex);
  void record_gateway_response(std::uint16_t status, std::string_view bytes);
  void close_socket(DisconnectReason reason);

  // ---- the one timer ----
  void rearm_timer();
  void on_timer();

  observability::ExchangeRecorder recorder_;
  std::string request_id_;
  HandoverCallback on_handover_;
  StreamSocket socket_;
  DeadlineTimer timer_;
  HttpSettings settings_;
  workers::ScopeOpener& opener_;
  std::function<void()> on_closed_;
  RequestRouter router_;
  PeerInfo peer_;
  std::shared_ptr<const ConnectionExtras> extras_;
  DateCache dates_;
  RequestInput input_;
  OutputQueue out_;
  WritePump pump_;
  std::shared_ptr<Exchange> exchange_;
  ConnectionState state_ = ConnectionState::idle;

  int request_version_ = 11;
  bool head_method_ = false;
  bool client_keep_alive_ = false;
  bool close_after_response_ = false;
  bool reading_ = false;
  bool readable_ = false;
  bool read_posted_ = false;
  ReadWatcher::Handle watch_ = 0;
  std::shared_ptr<Http1Connection> read_hold_;
  bool processing_ = false;
  bool reprocess_ = false;

  std::optional<Clock::time_point> head_deadline_, idle_deadline_, body_deadline_, request_deadline_, write_deadline_,
      linger_deadline_;
};

}  // namespace pagi::gateway::http1
