#include "gateway/http2/session.hpp"

#include <algorithm>
#include <new>
#include <vector>

#include <nghttp2/nghttp2.h>

namespace pagi::gateway::http2 {
namespace {

// Marks a stream as a request this session reported to the handler, so
// closes of streams nghttp2 refused on its own are not reported.
void* const reported = reinterpret_cast<void*>(1);

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

// :status first, then the app's fields. HTTP/2 forbids connection-specific
// fields (RFC 9113 8.2.2): they are dropped rather than failing the stream.
bool connection_specific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" || name == "transfer-encoding" ||
         name == "upgrade";
}

void build_nva(std::vector<nghttp2_nv>& nva, std::string_view status, std::span<const workers::HeaderView> headers) {
  nva.clear();
  if (!status.empty()) nva.push_back(make_nv(":status", status));
  for (const auto& h : headers) {
    if (connection_specific(h.name)) continue;
    nva.push_back(make_nv(h.name, h.value));
  }
}

}  // namespace

struct Session::Callbacks {
  static Session& self(void* user) { return *static_cast<Session*>(user); }

  static int on_begin_headers(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto& me = self(user);
    nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, reported);
    ++me.open_streams_;
    me.handler_.on_request_begin(frame->hd.stream_id);
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    self(user).handler_.on_request_header(frame->hd.stream_id, {reinterpret_cast<const char*>(name), namelen},
                                          {reinterpret_cast<const char*>(value), valuelen});
    return 0;
  }

  static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    auto& me = self(user);
    const StreamId id = frame->hd.stream_id;
    if (id == 0 || nghttp2_session_get_stream_user_data(s, id) != reported) return 0;
    me.handler_.on_stream_activity(id);
    const bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST)
          me.handler_.on_request_headers_done(id, end);
        else if (end)
          me.handler_.on_request_end(id);  // request trailers: their fields are not kept
        break;
      case NGHTTP2_DATA:
        if (end) me.handler_.on_request_end(id);
        break;
      default: break;
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* s, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
    auto& me = self(user);
    if (nghttp2_session_get_stream_user_data(s, id) != reported) {
      me.consume_connection(len);
      return 0;
    }
    me.handler_.on_request_data(id, {reinterpret_cast<const char*>(data), len});
    return 0;
  }

  static int on_begin_frame(nghttp2_session* s, const nghttp2_frame_hd* hd, void* user) {
    auto& me = self(user);
    if (hd->type != NGHTTP2_HEADERS || hd->stream_id <= 0 || (hd->stream_id & 1) == 0) return 0;
    if (hd->stream_id > me.highest_stream_) {
      me.highest_stream_ = hd->stream_id;
      return 0;
    }
    if (nghttp2_session_find_stream(s, hd->stream_id) != nullptr || me.recently_closed(hd->stream_id)) return 0;
    return NGHTTP2_ERR_CALLBACK_FAILURE;  // receive() answers GOAWAY PROTOCOL_ERROR
  }

  static int on_stream_close(nghttp2_session* s, int32_t id, uint32_t error_code, void* user) {
    auto& me = self(user);
    me.closed_ring_[me.closed_next_++ % me.closed_ring_.size()] = id;
    if (nghttp2_session_get_stream_user_data(s, id) != reported) return 0;
    nghttp2_session_set_stream_user_data(s, id, nullptr);
    --me.open_streams_;
    me.handler_.on_stream_closed(id, error_code);
    return 0;
  }

  static int on_frame_send(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    auto& me = self(user);
    const StreamId id = frame->hd.stream_id;
    if (id == 0) {
      if (frame->hd.type == NGHTTP2_GOAWAY) me.goaway_sent_ = true;
      return 0;
    }
    if (nghttp2_session_get_stream_user_data(s, id) != reported) return 0;
    me.handler_.on_stream_activity(id);
    if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
      me.handler_.on_response_complete(id);
    return 0;
  }

  static int on_error(nghttp2_session*, int, const char* msg, size_t len, void* user) {
    self(user).last_error_.assign(msg, len);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source*, void* user) {
    const BodyPull pull = self(user).handler_.pull_body(id, {buf, length});
    if (pull.failed) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (pull.deferred && pull.bytes == 0 && !pull.eof) return NGHTTP2_ERR_DEFERRED;
    if (pull.eof) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (pull.trailers) *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return static_cast<ssize_t>(pull.bytes);
  }
};

Session::Session(SessionHandler& handler, const HttpSettings& settings) : handler_(handler), settings_(settings) {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) throw std::bad_alloc();
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, Callbacks::on_begin_frame);
  nghttp2_session_callbacks_set_on_header_callback(cbs, Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, Callbacks::on_frame_send);
  nghttp2_session_callbacks_set_error_callback2(cbs, Callbacks::on_error);

  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cbs);
    throw std::bad_alloc();
  }
  // Windows reopen only as the app takes request bytes (consume()).
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_outbound_ack(opt, settings.h2_max_queued_acks);
  nghttp2_option_set_max_settings(opt, settings.h2_max_settings);
  nghttp2_option_set_stream_reset_rate_limit(opt, settings.h2_reset_burst, settings.h2_resets_per_second);
  nghttp2_option_set_max_continuations(opt, settings.h2_max_continuations);
  const int rv = nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) throw std::bad_alloc();
}

Session::~Session() { nghttp2_session_del(session_); }

bool Session::check(int rv) {
  if (rv >= 0) return true;
  last_error_ = nghttp2_strerror(rv);
  return false;
}

namespace {
std::vector<nghttp2_settings_entry> our_settings(const HttpSettings& s) {
  return {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s.h2_max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, s.h2_stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<uint32_t>(std::min<std::size_t>(s.max_header_bytes, UINT32_MAX))},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      // RFC 8441: WebSocket over Extended CONNECT.
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
  };
}
}  // namespace

void Session::start() {
  const auto entries = our_settings(settings_);
  check(nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries.data(), entries.size()));
  check(nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                              static_cast<int32_t>(settings_.h2_connection_window)));
}

bool Session::start_upgraded(std::string_view payload, bool head_request) {
  if (!check(nghttp2_session_upgrade2(session_, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(),
                                      head_request ? 1 : 0, reported)))
    return false;
  ++open_streams_;
  highest_stream_ = 1;
  start();
  return true;
}

bool Session::receive(std::string_view bytes) {
  const auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (n < 0) {
    last_error_ = nghttp2_strerror(static_cast<int>(n));
    // Fatal errors (bad preface, flood, callback failure) queue no GOAWAY
    // of their own: say why before closing.
    if (!goaway_sent_)
      nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                            n == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR, nullptr, 0);
    goaway_sent_ = true;
    return false;
  }
  return true;
}

bool Session::produce(std::string& out, std::size_t max_bytes) {
  while (out.size() < max_bytes) {
    const uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      last_error_ = nghttp2_strerror(static_cast<int>(n));
      return false;
    }
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  return true;
}

bool Session::recently_closed(StreamId id) const {
  return std::find(closed_ring_.begin(), closed_ring_.end(), id) != closed_ring_.end();
}

bool Session::wants_read() const { return nghttp2_session_want_read(session_) != 0; }
bool Session::wants_write() const { return nghttp2_session_want_write(session_) != 0; }

bool Session::submit_response(StreamId id, std::uint16_t status, std::span<const workers::HeaderView> headers,
                              bool has_body) {
  std::vector<nghttp2_nv> nva;
  const std::string code = std::to_string(status);
  build_nva(nva, code, headers);
  nghttp2_data_provider provider{};
  provider.read_callback = Callbacks::read_body;
  return check(nghttp2_submit_response(session_, id, nva.data(), nva.size(), has_body ? &provider : nullptr));
}

bool Session::submit_interim(StreamId id, std::uint16_t status, std::span<const workers::HeaderView> headers) {
  std::vector<nghttp2_nv> nva;
  const std::string code = std::to_string(status);
  build_nva(nva, code, headers);
  return check(nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, id, nullptr, nva.data(), nva.size(), nullptr));
}

bool Session::submit_trailers(StreamId id, std::span<const workers::HeaderView> trailers) {
  std::vector<nghttp2_nv> nva;
  build_nva(nva, {}, trailers);
  return check(nghttp2_submit_trailer(session_, id, nva.data(), nva.size()));
}

void Session::resume_body(StreamId id) { nghttp2_session_resume_data(session_, id); }

void Session::reset_stream(StreamId id, std::uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error_code);
}

void Session::consume(StreamId id, std::size_t bytes) {
  if (bytes) nghttp2_session_consume(session_, id, bytes);
}

void Session::consume_connection(std::size_t bytes) {
  if (bytes) nghttp2_session_consume_connection(session_, bytes);
}

void Session::goaway(std::uint32_t error_code) {
  if (goaway_sent_) return;
  goaway_sent_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_), error_code,
                        nullptr, 0);
}

}  // namespace pagi::gateway::http2
