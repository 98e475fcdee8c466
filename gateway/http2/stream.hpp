// One HTTP/2 stream: the workers::Downstream the pool talks to, exactly as
// the HTTP/1 exchange is. It keeps the request's header block, feeds the
// request body to the app within its credit (reopening the HTTP/2 window
// only for bytes the app took), and holds the response body until the
// session pulls it into DATA frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "gateway/http1/connection.hpp"
#include "gateway/http2/session.hpp"
#include "gateway/http2/ws_tunnel.hpp"
#include "gateway/observability/exchange_recorder.hpp"
#include "gateway/sse/stream_output.hpp"
#include "protocol/disconnect_reason.hpp"
#include "workers/downstream.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway::sse {
class Stream;
}

namespace pagi::gateway::http2 {

// What a stream needs from its connection.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual Session& session() = 0;
  // Frames may be pending: write them soon (coalesced per loop turn).
  virtual void schedule_write() = 0;
  virtual const HttpSettings& settings() const = 0;
  // The connection's executor (an SSE stream's timer runs on it).
  virtual boost::asio::any_io_executor executor() = 0;
  // The access log / metrics hook; null when nothing observes.
  virtual observability::ExchangeObserver* observer() const { return nullptr; }
};

// An `sse` scope (Accept lists text/event-stream, the pool takes sse) is
// served like HTTP/1's: on sse.start the stream owns an sse::Stream whose
// encoded events become DATA; its end (sse.close, the app returning, idle)
// is END_STREAM.
//
// An Extended CONNECT with :protocol websocket (RFC 8441) is handed to a
// WsTunnel, which runs the HTTP/1 WebSocket session over the stream's DATA.
class Stream final : public workers::Downstream, public sse::StreamOutput, public TunnelOwner {
 public:
  enum class Phase : std::uint8_t {
    headers,    // request header block still arriving
    waiting,    // scope open, no response yet
    streaming,  // response head submitted, body flowing
    complete,   // END_STREAM sent
    failed,     // reset, or answered by the gateway
  };
  using Clock = std::chrono::steady_clock;

  Stream(StreamSink& sink, StreamId id);
  ~Stream() override;

  // ---- request side, driven by the connection ----
  void add_header(std::string_view name, std::string_view value);
  // The header block is complete: open the scope (or answer 4xx).
  void open(workers::ScopeOpener& opener, const http1::ConnectionExtras* extras, const http1::PeerInfo& peer,
            bool end_stream, std::weak_ptr<workers::Downstream> self);
  void deliver_data(std::string_view data);
  void request_end();
  // The stream is gone (`error_code` 0: completed).
  void closed(std::uint32_t error_code, DisconnectReason reason);
  void response_complete();
  BodyPull pull(std::span<std::uint8_t> buffer);
  void touch() { last_activity_ = Clock::now(); }
  // Reset for h2_stream_timeout: the app hears client_timeout.
  void mark_stalled() { stalled_ = true; }
  Clock::time_point last_activity() const { return last_activity_; }
  Phase phase() const { return phase_; }
  StreamId id() const { return id_; }
  // The connection is ending: no more sink calls.
  void detach() { sink_ = nullptr; }

  // ---- workers::Downstream ----
  void on_response_start(std::uint16_t status, std::span<const workers::HeaderView> headers, bool trailers) override;
  void on_response_body(std::string_view body, bool more) override;
  void on_response_file(std::string_view path, std::uint64_t offset, std::int64_t length) override;
  void on_response_trailers(std::span<const workers::HeaderView> trailers) override;
  void on_response_early_hint(std::span<const workers::HeaderView> headers) override;
  void on_request_credit() override;
  void on_app_done(bool failed) override;
  void on_upstream_error(workers::UpstreamError error) override;
  void on_sse_start(std::uint16_t status, std::span<const workers::HeaderView> headers) override;
  void on_sse_send(const workers::SseEventView& event) override;
  void on_sse_comment(std::string_view comment) override;
  void on_sse_keepalive(std::uint32_t interval_ms, std::string_view comment) override;
  void on_sse_close(std::string_view reason) override;
  void on_server_close(bool restart) override;

  // ---- TunnelOwner ----
  void tunnel_head(std::uint16_t status, std::span<const workers::HeaderView> headers) override;
  void tunnel_bytes(std::string_view bytes) override;
  void tunnel_ended(bool answered) override;
  void tunnel_consumed(std::size_t n) override;
  std::size_t tunnel_backlog() const override { return body_.size() - body_sent_; }
  // A WebSocket: its session has its own idle and keepalive timers, so the
  // stall sweep leaves it alone.
  bool tunnelled() const { return tunnel_ != nullptr; }

  // ---- sse::StreamOutput ----
  void write_stream_bytes(std::string_view bytes, std::size_t credit) override;
  void stream_idle() override;

 private:
  void open_websocket(workers::ScopeOpener& opener, workers::ScopeRequest& r, std::string_view protocol);
  bool sse_streaming() const;
  // Ends a started SSE stream (END_STREAM once its bytes are out); `reason`
  // none: a normal end the app asked for.
  void end_sse(DisconnectReason reason);
  void release_sse_credit();
  void pump_request();
  void gateway_response(std::uint16_t status, std::uint32_t retry_after,
                        std::span<const workers::HeaderView> extra = {});
  void fail(std::uint32_t h2_error);
  void wake();
  // Access log: the response head went out (HPACK-encoded head bytes are
  // not counted: the record's head_bytes_out is 0 on HTTP/2).
  void record_head(std::uint16_t status, std::span<const workers::HeaderView> headers, bool gateway);

  StreamSink* sink_;
  StreamId id_;
  Phase phase_ = Phase::headers;
  Clock::time_point last_activity_ = Clock::now();
  std::unique_ptr<workers::Upstream> upstream_;

  // Request.
  std::vector<std::pair<std::string, std::string>> fields_;
  std::size_t header_bytes_ = 0;
  bool headers_too_large_ = false;
  bool head_method_ = false;
  std::string request_body_;       // received, not yet taken by the app
  std::size_t request_taken_ = 0;  // prefix of request_body_ already sent on
  bool request_ended_ = false;
  bool request_end_sent_ = false;

  // Response.
  std::string body_;           // app bytes not yet pulled into DATA frames
  std::size_t body_sent_ = 0;  // prefix of body_ already pulled
  bool body_done_ = false;     // the app sent its last body event
  bool trailers_expected_ = false;
  bool trailers_ready_ = false;
  std::vector<std::pair<std::string, std::string>> trailers_;
  int file_fd_ = -1;
  std::uint64_t file_offset_ = 0;
  std::uint64_t file_left_ = 0;
  bool disconnected_ = false;
  bool stalled_ = false;

  // SSE mode: credit of each event, by the body offset its bytes end at.
  std::unique_ptr<sse::Stream> sse_;
  std::uint64_t body_total_ = 0;   // bytes ever appended to body_
  std::uint64_t body_pulled_ = 0;  // bytes ever pulled into DATA frames
  std::deque<std::pair<std::uint64_t, std::size_t>> sse_credit_;

  std::shared_ptr<WsTunnel> tunnel_;
  // One record per stream, only when something observes (else null).
  std::unique_ptr<observability::ExchangeRecorder> recorder_;
};

}  // namespace pagi::gateway::http2
