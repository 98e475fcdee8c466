#include "gateway/http2/stream.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <sys/stat.h>

#include "gateway/http1/path_decoding.hpp"
#include "gateway/http1/response_head.hpp"
#include "gateway/observability/request_id.hpp"
#include "gateway/sse/detection.hpp"
#include "gateway/sse/stream.hpp"

namespace pagi::gateway::http2 {
namespace {

// Compacts a consumed prefix once it is most of the buffer.
void compact(std::string& buffer, std::size_t& consumed) {
  if (consumed == buffer.size()) {
    buffer.clear();
    consumed = 0;
  } else if (consumed > 64 * 1024 && consumed * 2 > buffer.size()) {
    buffer.erase(0, consumed);
    consumed = 0;
  }
}

}  // namespace

Stream::Stream(StreamSink& sink, StreamId id) : sink_(&sink), id_(id) {
  if (auto* observer = sink.observer())
    recorder_ = std::make_unique<observability::ExchangeRecorder>(observer, "http2");
}

Stream::~Stream() {
  if (recorder_) recorder_->finish(DisconnectReason::server_error);  // no-op once closed() recorded it
  if (file_fd_ >= 0) ::close(file_fd_);
  if (tunnel_) tunnel_->close();
  // Destroying an Upstream that neither finished nor disconnected tells the
  // app server_error; say client_closed explicitly when the client left.
}

void Stream::add_header(std::string_view name, std::string_view value) {
  // RFC 9113 6.5.2: a field costs its name, value and 32 octets.
  header_bytes_ += name.size() + value.size() + 32;
  if (!sink_ || header_bytes_ > sink_->settings().max_header_bytes || fields_.size() >= sink_->settings().max_headers) {
    headers_too_large_ = true;
    return;
  }
  fields_.emplace_back(name, value);
}

void Stream::open(workers::ScopeOpener& opener, const http1::ConnectionExtras* extras, const http1::PeerInfo& peer,
                  bool end_stream, std::weak_ptr<workers::Downstream> self) {
  phase_ = Phase::waiting;
  request_ended_ = end_stream;
  if (headers_too_large_) {
    if (recorder_) recorder_->begin_rejected(peer.client_host, peer.client_port, {});
    return gateway_response(431, 0);
  }

  std::string_view method, path_target, authority, protocol;
  std::vector<workers::HeaderView> headers;
  headers.reserve(fields_.size() + 1);
  std::string cookies;
  std::size_t cookie_slot = SIZE_MAX;
  bool has_host = false;
  for (const auto& [name, value] : fields_) {
    if (!name.empty() && name[0] == ':') {
      if (name == ":method")
        method = value;
      else if (name == ":path")
        path_target = value;
      else if (name == ":authority")
        authority = value;
      else if (name == ":protocol")
        protocol = value;
      continue;  // pseudo-headers are not app headers
    }
    if (name == "cookie") {  // RFC 9113 8.2.3: fold with "; "
      if (cookie_slot == SIZE_MAX) {
        cookie_slot = headers.size();
        headers.push_back({name, {}});
      } else {
        cookies += "; ";
      }
      cookies += value;
      continue;
    }
    if (name == "host") has_host = true;
    headers.push_back({name, value});
  }
  if (cookie_slot != SIZE_MAX) headers[cookie_slot].value = cookies;
  if (!has_host && !authority.empty()) headers.insert(headers.begin(), {"host", authority});
  head_method_ = method == "HEAD";

  workers::ScopeRequest r;
  r.type = wire::ScopeType::HTTP;
  r.http_version = "2";
  r.method = method;
  const bool secure = extras && extras->tls;
  r.scheme = secure ? "https" : "http";
  const auto parts = http1::split_target(path_target);
  std::string path;
  http1::decode_path(parts.raw_path, path);
  r.path = path;
  r.raw_path = parts.raw_path;
  r.query_string = parts.query_string;
  r.headers = headers;
  r.client_host = peer.client_host;
  r.client_port = peer.client_port;
  r.server_host = peer.server_host;
  r.server_port = peer.server_port;
  r.server_is_unix = peer.server_is_unix;
  r.extensions = wire::EXT_FULLFLUSH | wire::EXT_EARLY_HINTS;
  if (secure) {
    r.extensions |= wire::EXT_TLS;
    r.tls = extras->tls.get();
  }
  std::string request_id;
  observability::choose_request_id(r.headers, observability::process_request_ids(), request_id);
  r.request_id = request_id;
  if (method == "CONNECT") return open_websocket(opener, r, protocol);
  // An event-stream request to a pool that takes sse scopes (an ASGI pool
  // does not: it gets plain http, as on HTTP/1).
  if (sse::accepts_event_stream(r.headers)) {
    r.type = wire::ScopeType::SSE;
    if (opener.supports(r))
      sse_ = std::make_unique<sse::Stream>(sink_->executor(), sink_->settings(), *this);
    else
      r.type = wire::ScopeType::HTTP;
  }
  if (end_stream) {
    r.has_body = true;
    r.body = "";
    r.more = false;
    request_end_sent_ = true;
  }
  if (recorder_) recorder_->begin(r);
  auto upstream = opener.open_scope(r, std::move(self));
  fields_.clear();
  fields_.shrink_to_fit();
  if (phase_ == Phase::failed || phase_ == Phase::complete) return;  // answered during open
  upstream_ = std::move(upstream);
  pump_request();
}

void Stream::deliver_data(std::string_view data) {
  touch();
  if (recorder_) recorder_->bytes_in(data.size());
  if (tunnel_) return tunnel_->client_bytes(data);
  if (!upstream_ || phase_ == Phase::failed) {
    if (sink_) sink_->session().consume_connection(data.size());
    return;
  }
  request_body_.append(data);
  pump_request();
}

void Stream::request_end() {
  request_ended_ = true;
  if (tunnel_) return tunnel_->client_end();
  pump_request();
}

// Hands buffered body to the app within its window; only bytes it took
// reopen the client's HTTP/2 window.
void Stream::pump_request() {
  if (!upstream_ || disconnected_ || request_end_sent_ || !sink_) return;
  for (;;) {
    const std::size_t pending = request_body_.size() - request_taken_;
    const std::size_t window = upstream_->request_window();
    if (pending == 0) {
      if (request_ended_) {
        upstream_->send_body({}, false);
        request_end_sent_ = true;
      }
      break;
    }
    if (window == 0) break;
    const std::size_t n = std::min(pending, window);
    const bool last = request_ended_ && n == pending;
    upstream_->send_body(std::string_view(request_body_).substr(request_taken_, n), !last);
    request_taken_ += n;
    sink_->session().consume(id_, n);
    if (last) request_end_sent_ = true;
    compact(request_body_, request_taken_);
    if (last) break;
  }
  wake();
}

void Stream::closed(std::uint32_t error_code, DisconnectReason reason) {
  if (recorder_) {
    if (upstream_) recorder_->upstream(upstream_->pool_name(), upstream_->worker_pid());
    const bool done = phase_ == Phase::complete;
    recorder_->finish(done ? DisconnectReason::none : stalled_ ? DisconnectReason::client_timeout : reason);
  }
  if (sse_) sse_->end();
  if (tunnel_) tunnel_->close(reason == DisconnectReason::server_shutdown);
  if (sink_) sink_->session().consume_connection(request_body_.size() - request_taken_);
  request_body_.clear();
  request_taken_ = 0;
  if (phase_ != Phase::complete && upstream_ && !disconnected_) {
    disconnected_ = true;
    upstream_->disconnect(stalled_ ? DisconnectReason::client_timeout : reason);
  }
  if (phase_ != Phase::complete) phase_ = Phase::failed;
  sink_ = nullptr;
}

void Stream::response_complete() {
  if (phase_ == Phase::failed) return;
  phase_ = Phase::complete;
  if (upstream_ && !disconnected_) upstream_->response_done();
  // The client is still sending a body nobody will read: stop it.
  if (!request_ended_ && sink_) sink_->session().reset_stream(id_, NGHTTP2_NO_ERROR);
}

BodyPull Stream::pull(std::span<std::uint8_t> buffer) {
  touch();
  BodyPull p;
  if (phase_ == Phase::failed) {
    p.failed = true;
    return p;
  }
  const std::size_t pending = body_.size() - body_sent_;
  if (pending > 0) {
    const std::size_t n = std::min(pending, buffer.size());
    std::memcpy(buffer.data(), body_.data() + body_sent_, n);
    body_sent_ += n;
    p.bytes = n;
    body_pulled_ += n;
    if (sse_ && sse_->state() != sse::StreamState::idle)
      release_sse_credit();
    else if (upstream_ && !disconnected_)
      upstream_->response_written(n);
    compact(body_, body_sent_);
    if (tunnel_) tunnel_->resume();
  } else if (file_fd_ >= 0 && file_left_ > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(file_left_, buffer.size()));
    const ssize_t n = ::pread(file_fd_, buffer.data(), want, static_cast<off_t>(file_offset_));
    if (n <= 0) {  // error, or the file shrank under us
      p.failed = true;
      return p;
    }
    file_offset_ += static_cast<std::uint64_t>(n);
    file_left_ -= static_cast<std::uint64_t>(n);
    p.bytes = static_cast<std::size_t>(n);
  }
  if (recorder_) recorder_->bytes_out(p.bytes);
  const bool drained = body_sent_ == body_.size() && (file_fd_ < 0 || file_left_ == 0);
  if (drained && body_done_) {
    if (trailers_expected_ && !trailers_ready_) {
      p.deferred = p.bytes == 0;
      return p;
    }
    p.eof = true;
    if (trailers_expected_) {
      p.trailers = true;
      std::vector<workers::HeaderView> views;
      for (const auto& [n, v] : trailers_) views.push_back({n, v});
      if (sink_) sink_->session().submit_trailers(id_, views);
    }
  } else if (p.bytes == 0) {
    p.deferred = true;
  }
  return p;
}

void Stream::on_response_start(std::uint16_t status, std::span<const workers::HeaderView> headers, bool trailers) {
  if (phase_ != Phase::waiting || !sink_) return;
  phase_ = Phase::streaming;
  trailers_expected_ = trailers;
  record_head(status, headers, false);
  if (!sink_->session().submit_response(id_, status, headers, true)) return fail(NGHTTP2_INTERNAL_ERROR);
  wake();
}

void Stream::on_response_body(std::string_view body, bool more) {
  if (phase_ != Phase::streaming || body_done_) return;
  if (head_method_) {
    // HEAD: the body is not sent, but the app still gets its credit back.
    if (upstream_ && !body.empty()) upstream_->response_written(body.size());
  } else {
    body_.append(body);
  }
  if (!more) body_done_ = true;
  wake();
}

void Stream::on_response_file(std::string_view path, std::uint64_t offset, std::int64_t length) {
  if (phase_ != Phase::streaming || body_done_) return;
  const std::string p(path);
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < offset) {
    if (fd >= 0) ::close(fd);
    return fail(NGHTTP2_INTERNAL_ERROR);
  }
  const std::uint64_t available = static_cast<std::uint64_t>(st.st_size) - offset;
  file_fd_ = fd;
  file_offset_ = offset;
  file_left_ = length < 0 ? available : std::min<std::uint64_t>(available, static_cast<std::uint64_t>(length));
  if (head_method_) file_left_ = 0;
  body_done_ = true;
  wake();
}

void Stream::on_response_trailers(std::span<const workers::HeaderView> trailers) {
  if (phase_ != Phase::streaming || !trailers_expected_ || trailers_ready_) return;
  for (const auto& h : trailers) trailers_.emplace_back(h.name, h.value);
  trailers_ready_ = true;
  body_done_ = true;
  wake();
}

void Stream::on_response_early_hint(std::span<const workers::HeaderView> headers) {
  if (phase_ != Phase::waiting || !sink_) return;
  sink_->session().submit_interim(id_, 103, headers);
  wake();
}

void Stream::on_request_credit() { pump_request(); }

void Stream::on_app_done(bool failed) {
  // An SSE stream ends when the app returns: that is its normal end.
  if (sse_streaming()) return end_sse(DisconnectReason::none);
  if (phase_ == Phase::waiting) return gateway_response(500, 0);
  // The app returned with its body unfinished: the client must not take a
  // truncated body for a whole one.
  if (phase_ == Phase::streaming && !body_done_) fail(NGHTTP2_INTERNAL_ERROR);
}

void Stream::on_upstream_error(workers::UpstreamError error) {
  using E = workers::UpstreamError;
  if (sse_streaming() && error == E::shutting_down) {
    disconnected_ = true;  // the pool is done with this scope
    return end_sse(DisconnectReason::none);
  }
  if (phase_ != Phase::waiting) return fail(NGHTTP2_INTERNAL_ERROR);
  const std::uint32_t retry = sink_ ? sink_->settings().retry_after_seconds : 1;
  switch (error) {
    case E::worker_lost: return gateway_response(502, 0);
    case E::request_timeout: return gateway_response(504, 0);
    case E::queue_full:
    case E::queue_timeout:
    case E::pool_failed:
    case E::shutting_down: return gateway_response(503, retry);
  }
}

void Stream::gateway_response(std::uint16_t status, std::uint32_t retry_after,
                              std::span<const workers::HeaderView> extra) {
  if (!sink_) return;
  const std::string text = std::to_string(status) + " " + std::string(http1::reason_phrase(status)) + "\n";
  const std::string length = std::to_string(text.size());
  const std::string retry = std::to_string(retry_after);
  std::vector<workers::HeaderView> headers = {{"content-type", "text/plain; charset=utf-8"},
                                              {"content-length", length}};
  if (retry_after) headers.push_back({"retry-after", retry});
  headers.insert(headers.end(), extra.begin(), extra.end());
  if (recorder_) {
    if (!recorder_->in_exchange()) recorder_->begin_rejected({}, 0, {});
    if (upstream_) recorder_->upstream(upstream_->pool_name(), upstream_->worker_pid());
  }
  record_head(status, headers, true);
  phase_ = Phase::streaming;
  body_ = head_method_ ? std::string() : text;
  body_sent_ = 0;
  body_done_ = true;
  trailers_expected_ = false;
  if (!sink_->session().submit_response(id_, status, headers, true)) return fail(NGHTTP2_INTERNAL_ERROR);
  // The app never answered: what it sends from now on is dropped.
  upstream_.reset();
  wake();
}

void Stream::fail(std::uint32_t h2_error) {
  if (phase_ == Phase::failed || phase_ == Phase::complete) return;
  phase_ = Phase::failed;
  if (sink_) sink_->session().reset_stream(id_, h2_error);
  wake();
}

void Stream::record_head(std::uint16_t status, std::span<const workers::HeaderView> headers, bool gateway) {
  if (recorder_) recorder_->response_head(status, headers, 0, gateway);
}

void Stream::wake() {
  if (!sink_) return;
  if (phase_ == Phase::streaming) sink_->session().resume_body(id_);
  sink_->schedule_write();
}

}  // namespace pagi::gateway::http2
