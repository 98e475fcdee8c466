#include "gateway/http1/exchange.hpp"

#include <algorithm>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "gateway/sse/response_fields.hpp"
#include "gateway/sse/stream.hpp"

namespace pagi::gateway::http1 {

Exchange::Exchange(ExchangeSink& sink, const ExchangeRequest& request)
    : sink_(&sink), request_(request), request_complete_(request.body_in_scope) {}

Exchange::~Exchange() {
  // An exchange dropped before its response was written: the app is told.
  if (upstream_ && phase_ != Phase::finished) end_with(DisconnectReason::server_error);
}

std::size_t Exchange::request_window() const { return upstream_ ? upstream_->request_window() : 0; }

void Exchange::deliver_body(std::string_view chunk, bool last) {
  if (request_complete_) return;
  if (last) request_complete_ = true;
  if (upstream_ && !disconnected_) upstream_->send_body(chunk, !last);
}

void Exchange::on_body_written(std::size_t bytes) {
  if (upstream_ && !disconnected_ && bytes > 0) upstream_->response_written(bytes);
}

void Exchange::on_response_flushed() {
  if (phase_ != Phase::queued) return;
  phase_ = Phase::finished;
  if (upstream_ && !disconnected_) upstream_->response_done();
}

void Exchange::end_with(DisconnectReason reason) {
  if (disconnected_ || phase_ == Phase::finished) return;
  disconnected_ = true;
  if (upstream_) upstream_->disconnect(reason);
}

void Exchange::on_response_start(std::uint16_t status, std::span<const workers::HeaderView> headers, bool trailers) {
  if (!sink_ || phase_ != Phase::waiting || status < 200) return;
  auto ctx = sink_->response_context();
  // The client waits for 100 before sending its body and will never get it.
  if (request_.expect_continue && !continue_sent_ && !request_complete_) ctx.must_close = true;
  scratch_.clear();
  // One allocation for a typical head (status line, a few fields, Date,
  // Server, request id) instead of regrowing from the inline 15 bytes.
  scratch_.reserve(kHeadReserve);
  plan_ = write_response_head(scratch_, ctx, status, headers);
  keep_alive_ = plan_.keep_alive;
  length_left_ = plan_.content_length.value_or(0);
  trailers_ = trailers;
  head_bytes_ = scratch_.size();
  phase_ = Phase::streaming;
  sink_->write(scratch_, 0);
  sink_->response_head_written(status, headers, head_bytes_);
  sink_->response_started();
}

void Exchange::on_response_body(std::string_view body, bool more) { on_body_event(body, more, nullptr); }

void Exchange::on_response_body_shared(const protocol::SharedBytes& body, bool more) {
  on_body_event(body.view(), more, &body);
}

void Exchange::on_body_event(std::string_view body, bool more, const protocol::SharedBytes* shared) {
  if (!sink_ || phase_ != Phase::streaming || sse_streaming()) return;
  write_body(body, body.size(), shared);
  if (!more) {
    if (trailers_)
      phase_ = Phase::awaiting_trailers;
    else
      finish_body({});
  }
}

void Exchange::write_body(std::string_view body, std::size_t credit, const protocol::SharedBytes* shared) {
  // The body goes to the sink as a view (no copy here). A small body is
  // copied once, joining the head or chunk header in one buffer; a large
  // one comes `shared` (the worker's read chunk) and is queued by
  // reference, so the client's writev reads it from the worker's read
  // buffer (docs/architecture.md "Flow control").
  const auto put_body = [&](std::string_view bytes, std::size_t credit_bytes) {
    if (shared != nullptr && bytes.size() == shared->size())
      sink_->write_shared(*shared, credit_bytes);
    else
      sink_->write(bytes, credit_bytes);
  };
  std::string_view bytes;
  switch (plan_.framing) {
    case BodyFraming::none: break;
    case BodyFraming::content_length: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(body.size(), length_left_));
      bytes = body.substr(0, n);
      length_left_ -= n;
      break;
    }
    case BodyFraming::chunked:
      if (body.empty()) break;  // an empty chunk would end the body
      scratch_.clear();
      append_chunk_header(scratch_, body.size());
      sink_->write(scratch_, 0);
      put_body(body, 0);
      sink_->write("\r\n", credit);
      head_bytes_ = 0;  // the head is no longer the queue's tail
      return;
    case BodyFraming::close_delimited: bytes = body; break;
  }
  if (!bytes.empty() || credit > 0) put_body(bytes, credit);
  if (!bytes.empty()) head_bytes_ = 0;  // the head is no longer the queue's tail
}

void Exchange::on_response_file(std::string_view path, std::uint64_t offset, std::int64_t length) {
  if (!sink_ || phase_ != Phase::streaming) return;
  const std::string file(path);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) ::close(fd);
    fail_response();
    return;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t len = offset >= size ? 0 : size - offset;
  if (length >= 0) len = std::min<std::uint64_t>(len, static_cast<std::uint64_t>(length));

  std::string prefix, suffix;
  switch (plan_.framing) {
    case BodyFraming::none: len = 0; break;
    case BodyFraming::content_length:
      len = std::min(len, length_left_);
      length_left_ -= len;
      break;
    case BodyFraming::chunked:
      if (len > 0) {
        append_chunk_header(prefix, len);
        suffix = "\r\n";
      }
      break;
    case BodyFraming::close_delimited: break;
  }
  head_bytes_ = 0;
  if (len > 0)
    sink_->write_file(fd, offset, len, std::move(prefix), std::move(suffix));
  else
    ::close(fd);
  if (trailers_)
    phase_ = Phase::awaiting_trailers;
  else
    finish_body({});
}

void Exchange::on_response_trailers(std::span<const workers::HeaderView> trailers) {
  if (!sink_ || phase_ != Phase::awaiting_trailers) return;
  finish_body(trailers);
}

void Exchange::finish_body(std::span<const workers::HeaderView> trailers) {
  if (plan_.framing == BodyFraming::chunked) {
    scratch_.clear();
    append_last_chunk(scratch_, trailers);
    sink_->write(scratch_, 0);
  }
  // A body shorter than its Content-Length leaves the client waiting for
  // bytes that will never come: only closing tells it.
  if (plan_.framing == BodyFraming::content_length && length_left_ > 0) keep_alive_ = false;
  if (plan_.framing == BodyFraming::close_delimited) keep_alive_ = false;
  phase_ = Phase::queued;
  sink_->response_queued();
}

void Exchange::fail_response() {
  // The head may still sit unsent in the output queue: replace it by a 500.
  if (phase_ == Phase::streaming && sink_->retract_unsent(head_bytes_)) {
    phase_ = Phase::failed;
    sink_->server_response(500, 0);
    return;
  }
  phase_ = Phase::failed;
  end_with(DisconnectReason::server_error);
  sink_->abort_connection();
}

// http.response.early_hint: a 103 interim response (RFC 8297); HTTP/1.0
// has no interim responses, so there it is dropped.
void Exchange::on_response_early_hint(std::span<const workers::HeaderView> headers) {
  if (!sink_ || disconnected_ || phase_ != Phase::waiting || request_.version < 11) return;
  std::string head = "HTTP/1.1 103 Early Hints\r\n";
  for (const auto& h : headers) {
    head.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  head += "\r\n";
  sink_->write(head, 0);
}

void Exchange::on_request_credit() {
  if (!sink_ || disconnected_) return;
  if (request_.expect_continue && !continue_sent_ && phase_ == Phase::waiting && !request_complete_) {
    continue_sent_ = true;
    sink_->write("HTTP/1.1 100 Continue\r\n\r\n", 0);
  }
  sink_->pump_request_body();
}

void Exchange::on_app_done(bool failed) {
  if (!sink_ || disconnected_) return;
  // An SSE stream ends when the app returns: that is its normal end.
  if (sse_streaming()) return end_sse_stream();
  if (phase_ == Phase::waiting) {
    // The spec's backstop: no response from the app.
    phase_ = Phase::failed;
    sink_->server_response(500, 0);
  } else if (phase_ == Phase::streaming || phase_ == Phase::awaiting_trailers) {
    // The app ended mid-response: the client can only learn it by a close.
    phase_ = Phase::failed;
    disconnected_ = true;
    sink_->abort_connection();
  }
}

void Exchange::on_upstream_error(workers::UpstreamError error) {
  if (!sink_ || disconnected_) return;
  if (sse_streaming() && error == workers::UpstreamError::shutting_down) {
    disconnected_ = true;  // the pool is done with this scope
    return end_sse_stream();
  }
  if (phase_ != Phase::waiting) {
    if (phase_ == Phase::queued || phase_ == Phase::finished) return;
    phase_ = Phase::failed;
    disconnected_ = true;
    sink_->abort_connection();
    return;
  }
  phase_ = Phase::failed;
  disconnected_ = true;  // the pool is done with this scope
  using E = workers::UpstreamError;
  switch (error) {
    case E::worker_lost: sink_->server_response(502, 0); break;
    case E::request_timeout: sink_->server_response(504, 0); break;
    case E::queue_full:
    case E::queue_timeout:
    case E::pool_failed:
    case E::shutting_down: sink_->server_response(503, sink_->retry_after_seconds()); break;
  }
}

// ---- SSE response mode ----

void Exchange::enable_sse(std::unique_ptr<sse::Stream> stream) { sse_ = std::move(stream); }

bool Exchange::sse_streaming() const {
  return sse_ && phase_ == Phase::streaming && sse_->state() == sse::StreamState::streaming;
}

void Exchange::on_sse_start(std::uint16_t status, std::span<const workers::HeaderView> headers) {
  if (!sink_ || !sse_ || phase_ != Phase::waiting) return;
  // The body is always chunked (or close-delimited for HTTP/1.0), never sized.
  const auto all = sse::response_fields(headers);
  auto ctx = sink_->response_context();
  if (request_.expect_continue && !continue_sent_ && !request_complete_) ctx.must_close = true;
  ctx.head_method = false;  // a stream has a body whatever the method
  scratch_.clear();
  plan_ = write_response_head(scratch_, ctx, status, all);
  keep_alive_ = plan_.keep_alive;
  trailers_ = false;
  head_bytes_ = scratch_.size();
  phase_ = Phase::streaming;
  sink_->write(scratch_, 0);
  sink_->response_head_written(status, all, head_bytes_);
  sink_->response_started();
  sse_->start();
}

void Exchange::on_sse_send(const workers::SseEventView& event) {
  if (!sink_ || !sse_streaming()) return;
  if (!sse_->send(event)) spdlog::warn("sse: event with CR/LF/NUL in event or id dropped");
}

void Exchange::on_sse_comment(std::string_view comment) {
  if (!sink_ || !sse_streaming()) return;
  sse_->comment(comment);
}

void Exchange::on_sse_keepalive(std::uint32_t interval_ms, std::string_view comment) {
  if (!sink_ || !sse_) return;
  sse_->keepalive(interval_ms, comment);
}

void Exchange::on_sse_close(std::string_view /*reason: logged by the pool*/) {
  if (!sink_ || !sse_streaming()) return;
  end_sse_stream();
}

void Exchange::on_server_close(bool /*restart*/) {
  if (!sink_ || !sse_streaming()) return;
  end_with(DisconnectReason::server_shutdown);
  end_sse_stream();
}

void Exchange::write_stream_bytes(std::string_view bytes, std::size_t credit) {
  if (!sink_ || phase_ != Phase::streaming) return;
  write_body(bytes, credit);
}

void Exchange::stream_idle() {
  if (!sink_ || phase_ != Phase::streaming) return;
  end_with(DisconnectReason::idle_timeout);
  finish_body({});
}

void Exchange::end_sse_stream() {
  sse_->end();
  finish_body({});
}

}  // namespace pagi::gateway::http1
