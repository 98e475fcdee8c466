// The two streaming modes of an HTTP/2 stream, apart from the plain
// request/response in stream.cpp: the WebSocket tunnel (RFC 8441 extended
// CONNECT, bytes to and from WsTunnel) and the SSE response (sse::Stream
// writes event bytes; their credit goes back as DATA frames take them).
#include <nghttp2/nghttp2.h>

#include "gateway/http2/stream.hpp"
#include "gateway/sse/response_fields.hpp"
#include "gateway/sse/stream.hpp"
#include "gateway/websocket/handshake.hpp"

namespace pagi::gateway::http2 {

// ---- WebSocket over HTTP/2 (RFC 8441) ----

void Stream::open_websocket(workers::ScopeOpener& opener, workers::ScopeRequest& r, std::string_view protocol) {
  if (recorder_) recorder_->begin(r);
  // A plain CONNECT (no :protocol) asks for a TCP tunnel: not served here.
  if (protocol != "websocket") return gateway_response(501, 0);
  std::string_view version;
  for (const auto& h : r.headers)
    if (h.name == "sec-websocket-version") version = h.value;
  // RFC 6455 4.4: name the version we speak.
  static constexpr workers::HeaderView ours[] = {{"sec-websocket-version", "13"}};
  if (version != "13") return gateway_response(426, 0, ours);
  r.type = wire::ScopeType::WEBSOCKET;
  r.method = "GET";  // the scope looks as on HTTP/1.1
  const bool secure = (r.extensions & wire::EXT_TLS) != 0;
  r.scheme = secure ? "wss" : "ws";
  r.extensions = wire::EXT_WEBSOCKET_HTTP_RESPONSE | (r.extensions & wire::EXT_TLS);
  r.has_body = false;
  std::vector<std::string_view> subprotocols;
  websocket::parse_subprotocols(r.headers, subprotocols);
  r.subprotocols = subprotocols;
  // A pool whose apps take no websocket scopes cannot serve a tunnel.
  if (!opener.supports(r)) return gateway_response(501, 0);
  if (recorder_) recorder_->begin(r);
  tunnel_ = WsTunnel::start(sink_->executor(), *this, sink_->settings(), opener, r);
  fields_.clear();
  fields_.shrink_to_fit();
  if (!tunnel_) return gateway_response(503, sink_->settings().retry_after_seconds);
  if (request_ended_) tunnel_->client_end();
}

void Stream::tunnel_head(std::uint16_t status, std::span<const workers::HeaderView> headers) {
  if (phase_ != Phase::waiting || !sink_) return;
  phase_ = Phase::streaming;
  trailers_expected_ = false;
  record_head(status, headers, false);
  if (!sink_->session().submit_response(id_, status, headers, true)) return fail(NGHTTP2_INTERNAL_ERROR);
  wake();
}

void Stream::tunnel_bytes(std::string_view bytes) {
  if (phase_ != Phase::streaming || body_done_) return;
  body_.append(bytes);
  touch();
  wake();
}

void Stream::tunnel_ended(bool answered) {
  if (!sink_) return;
  if (phase_ == Phase::waiting && !answered) return gateway_response(502, 0);
  body_done_ = true;
  wake();
}

void Stream::tunnel_consumed(std::size_t n) {
  if (sink_) sink_->session().consume(id_, n);
}

// ---- SSE response mode ----

bool Stream::sse_streaming() const {
  return sse_ && phase_ == Phase::streaming && sse_->state() == sse::StreamState::streaming;
}

void Stream::on_sse_start(std::uint16_t status, std::span<const workers::HeaderView> headers) {
  if (!sink_ || !sse_ || phase_ != Phase::waiting) return;
  const auto all = sse::response_fields(headers);
  phase_ = Phase::streaming;
  head_method_ = false;  // a stream has a body whatever the method
  trailers_expected_ = false;
  record_head(status, all, false);
  if (!sink_->session().submit_response(id_, status, all, true)) return fail(NGHTTP2_INTERNAL_ERROR);
  sse_->start();
  wake();
}

void Stream::on_sse_send(const workers::SseEventView& event) {
  if (!sink_ || !sse_streaming()) return;
  sse_->send(event);  // false only for CR/LF/NUL in event or id, which the pool refused already
}

void Stream::on_sse_comment(std::string_view comment) {
  if (!sink_ || !sse_streaming()) return;
  sse_->comment(comment);
}

void Stream::on_sse_keepalive(std::uint32_t interval_ms, std::string_view comment) {
  if (!sink_ || !sse_) return;
  sse_->keepalive(interval_ms, comment);
}

void Stream::on_sse_close(std::string_view /*reason: logged by the pool*/) {
  if (!sink_ || !sse_streaming()) return;
  end_sse(DisconnectReason::none);
}

void Stream::on_server_close(bool /*restart*/) {
  if (tunnel_) return tunnel_->server_close();
  if (!sink_ || !sse_streaming()) return;
  end_sse(DisconnectReason::server_shutdown);
}

void Stream::write_stream_bytes(std::string_view bytes, std::size_t credit) {
  if (!sink_ || phase_ != Phase::streaming || body_done_) return;
  body_.append(bytes);
  body_total_ += bytes.size();
  if (credit) sse_credit_.emplace_back(body_total_, credit);
  touch();  // keepalive comments keep the stream from counting as stalled
  wake();
}

void Stream::stream_idle() {
  if (!sink_ || phase_ != Phase::streaming) return;
  end_sse(DisconnectReason::idle_timeout);
}

void Stream::end_sse(DisconnectReason reason) {
  sse_->end();
  if (reason != DisconnectReason::none && upstream_ && !disconnected_) {
    disconnected_ = true;
    upstream_->disconnect(reason);
  }
  body_done_ = true;
  wake();
}

// An event's credit goes back once its last byte is in a DATA frame.
void Stream::release_sse_credit() {
  while (!sse_credit_.empty() && sse_credit_.front().first <= body_pulled_) {
    if (upstream_ && !disconnected_) upstream_->response_written(sse_credit_.front().second);
    sse_credit_.pop_front();
  }
}

}  // namespace pagi::gateway::http2
