// One HTTP/1 request/response exchange: the Downstream the pool talks to.
// It turns the app's response events into HTTP/1 bytes (response_head) and
// hands them to its ExchangeSink, the connection driver, which owns the
// socket. The exchange owns the Upstream; the connection owns the exchange
// (shared_ptr: the pool holds only a weak_ptr).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gateway/http1/response_head.hpp"
#include "gateway/sse/stream_output.hpp"
#include "protocol/disconnect_reason.hpp"
#include "protocol/frame_codec.hpp"
#include "workers/downstream.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway::sse {
class Stream;
}

namespace pagi::gateway::http1 {

// What an exchange needs from its connection.
class ExchangeSink {
 public:
  virtual ~ExchangeSink() = default;
  // Date, Server and request facts for a response head.
  virtual ResponseContext response_context() = 0;
  // Queue bytes; `credit_bytes` of app body are returned to the app
  // (Upstream::response_written) once everything queued before them and
  // these bytes reached the socket.
  virtual void write(std::string_view bytes, std::size_t credit_bytes) = 0;
  // The same for bytes whose storage is shared (a worker's read chunk): the
  // sink may keep a reference instead of copying them.
  virtual void write_shared(const protocol::SharedBytes& bytes, std::size_t credit_bytes) {
    write(bytes.view(), credit_bytes);
  }
  // Queue [offset, offset+length) of an open file (the sink closes fd),
  // framed by prefix/suffix bytes.
  virtual void write_file(int fd, std::uint64_t offset, std::uint64_t length, std::string prefix,
                          std::string suffix) = 0;
  // Drop the last `bytes` queued if none of them went to the socket yet.
  virtual bool retract_unsent(std::size_t bytes) = 0;
  // The response head is queued (ends request_timeout).
  virtual void response_started() = 0;
  // What the head said, for the access log and metrics (head_bytes: its size).
  virtual void response_head_written(std::uint16_t status, std::span<const workers::HeaderView> headers,
                                     std::size_t head_bytes) {}
  // The whole response is queued; call on_response_flushed when written.
  virtual void response_queued() = 0;
  // Answer with a gateway response and close the connection after it.
  virtual void server_response(std::uint16_t status, std::uint32_t retry_after_seconds) = 0;
  // The exchange cannot go on: close the connection now.
  virtual void abort_connection() = 0;
  // The app granted request-body credit: feed it more body.
  virtual void pump_request_body() = 0;
  // Seconds for Retry-After on 503.
  virtual std::uint32_t retry_after_seconds() const = 0;
};

struct ExchangeRequest {
  int version = 11;
  bool head_method = false;
  bool expect_continue = false;
  bool body_in_scope = false;  // no body: the open frame carried it all
};

// An sse scope's exchange switches to the SSE response mode on sse.start:
// it owns an sse::Stream (gateway/sse/) and frames what it writes as the
// body; sse.http.response.* (the decline) is an ordinary response.
class Exchange final : public workers::Downstream, public sse::StreamOutput {
 public:
  enum class Phase : std::uint8_t {
    waiting,            // no response started
    streaming,          // head queued, body flowing
    awaiting_trailers,  // body ended, trailers announced
    queued,             // whole response queued
    finished,           // whole response written, response_done sent
    failed,             // aborted or answered by the gateway
  };

  Exchange(ExchangeSink& sink, const ExchangeRequest& request);
  ~Exchange() override;

  void attach(std::unique_ptr<workers::Upstream> upstream) { upstream_ = std::move(upstream); }
  // Which pool/worker serve the scope (access log); null before attach.
  const workers::Upstream* upstream() const { return upstream_.get(); }
  // The scope is an sse scope, served through `stream`.
  void enable_sse(std::unique_ptr<sse::Stream> stream);
  // An SSE stream is flowing (it never ends on its own).
  bool sse_streaming() const;
  // While the app works nothing may be pending on the socket (the read
  // buffer is full, no write, no deadline): the exchange in flight then
  // counts as the connection's pending operation and keeps it alive.
  void hold(std::shared_ptr<void> owner) { owner_ = std::move(owner); }
  // The exchange ends: no sink calls from now on; the hold is released.
  void detach() {
    sink_ = nullptr;
    owner_.reset();
  }

  // Request side, driven by the connection.
  std::size_t request_window() const;
  void deliver_body(std::string_view chunk, bool last);
  bool request_complete() const { return request_complete_; }

  // Write side, driven by the connection.
  void on_body_written(std::size_t bytes);
  void on_response_flushed();
  // Tell the app the client side ended (idempotent); no more response.
  void end_with(DisconnectReason reason);
  // The connection answered for the app (timeouts, bad body): no response.
  void mark_failed() { phase_ = Phase::failed; }

  Phase phase() const { return phase_; }
  bool response_started() const { return phase_ != Phase::waiting && phase_ != Phase::failed; }
  // The connection may serve another request after this one.
  bool keep_alive() const { return keep_alive_ && request_complete_; }

  // workers::Downstream
  void on_response_start(std::uint16_t status, std::span<const workers::HeaderView> headers, bool trailers) override;
  void on_response_body(std::string_view body, bool more) override;
  void on_response_body_shared(const protocol::SharedBytes& body, bool more) override;
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

  // sse::StreamOutput
  void write_stream_bytes(std::string_view bytes, std::size_t credit) override;
  void stream_idle() override;

 private:
  void on_body_event(std::string_view body, bool more, const protocol::SharedBytes* shared);
  void finish_body(std::span<const workers::HeaderView> trailers);
  // Body bytes framed per plan_; `credit` of them go back to the app.
  void write_body(std::string_view body, std::size_t credit, const protocol::SharedBytes* shared = nullptr);
  // Ends a flowing SSE stream like a final body (terminating chunk).
  void end_sse_stream();
  void fail_response();

  static constexpr std::size_t kHeadReserve = 256;

  ExchangeSink* sink_;
  std::shared_ptr<void> owner_;
  ExchangeRequest request_;
  std::unique_ptr<workers::Upstream> upstream_;
  Phase phase_ = Phase::waiting;
  ResponsePlan plan_;
  std::uint64_t length_left_ = 0;  // content_length framing
  std::size_t head_bytes_ = 0;     // for retracting an unsent head
  bool trailers_ = false;
  bool keep_alive_ = false;
  bool request_complete_ = false;
  bool continue_sent_ = false;
  bool disconnected_ = false;
  std::string scratch_;
  std::unique_ptr<sse::Stream> sse_;
};

}  // namespace pagi::gateway::http1
