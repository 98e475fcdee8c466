// The HTTP/2 session state machine (server side): a sans-I/O wrapper over
// nghttp2_session. Bytes from the client go in through receive(); frames for
// the client come out of produce(); everything in between is reported to a
// SessionHandler. It holds no socket, timer or io_context, so tests feed it
// raw frames.
//
// nghttp2 enforces the protocol (frame sizes, stream states, HPACK, flow
// control, HTTP messaging rules); this class sets the limits from
// HttpSettings and turns nghttp2's callbacks into stream-level events.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "gateway/http_settings.hpp"
#include "workers/scope_request.hpp"

struct nghttp2_session;

namespace pagi::gateway::http2 {

using StreamId = std::int32_t;

// What pull_body reports for one DATA frame's payload.
struct BodyPull {
  std::size_t bytes = 0;  // written into the buffer
  bool eof = false;       // the body ends with these bytes
  bool trailers = false;  // with eof: trailers follow (submitted by the handler)
  bool deferred = false;  // nothing now; resume_body() when there is
  bool failed = false;    // the body cannot continue: reset the stream
};

class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // A request's header block begins / one field (pseudo-headers included;
  // names lower-case, validated by nghttp2) / the block is complete.
  virtual void on_request_begin(StreamId id) = 0;
  virtual void on_request_header(StreamId id, std::string_view name, std::string_view value) = 0;
  virtual void on_request_headers_done(StreamId id, bool end_stream) = 0;
  virtual void on_request_data(StreamId id, std::string_view data) = 0;
  // END_STREAM from the client (after data, or with request trailers).
  virtual void on_request_end(StreamId id) = 0;
  // The stream is gone: `error_code` 0 when it completed, else the
  // RST_STREAM / GOAWAY code (either side).
  virtual void on_stream_closed(StreamId id, std::uint32_t error_code) = 0;
  // The response's last frame (END_STREAM) went into the output.
  virtual void on_response_complete(StreamId id) = 0;
  // Fill `buffer` with response body for one DATA frame.
  virtual BodyPull pull_body(StreamId id, std::span<std::uint8_t> buffer) = 0;
  // Any frame for this stream was received (stall detection).
  virtual void on_stream_activity(StreamId id) {}
};

class Session {
 public:
  // Throws std::bad_alloc only (setup).
  Session(SessionHandler& handler, const HttpSettings& settings);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Sends our SETTINGS and the connection window; call once, first.
  void start();
  // h2c via Upgrade: the HTTP2-Settings payload (decoded) and whether the
  // upgrading request was HEAD. Stream 1 is then half-closed (remote); the
  // caller answers it. Returns false on a bad payload.
  bool start_upgraded(std::string_view settings_payload, bool head_request);

  // Client bytes. False: a connection error; produce() then yields the
  // GOAWAY and the connection should close after writing it.
  bool receive(std::string_view bytes);
  // Appends pending frames to `out`, at most about `max_bytes`. Returns
  // false on a fatal error.
  bool produce(std::string& out, std::size_t max_bytes);
  // Whether the session still wants to read / has frames to write. Both
  // false: the connection is done (after GOAWAY and all streams closed).
  bool wants_read() const;
  bool wants_write() const;

  // Responses.
  bool submit_response(StreamId id, std::uint16_t status, std::span<const workers::HeaderView> headers, bool has_body);
  bool submit_interim(StreamId id, std::uint16_t status, std::span<const workers::HeaderView> headers);
  bool submit_trailers(StreamId id, std::span<const workers::HeaderView> trailers);
  void resume_body(StreamId id);
  void reset_stream(StreamId id, std::uint32_t error_code);
  // `bytes` of a stream's request body reached the app: reopen that much of
  // the stream and connection windows.
  void consume(StreamId id, std::size_t bytes);
  // Bytes received on a stream that will never reach an app: reopen the
  // connection window only.
  void consume_connection(std::size_t bytes);
  // Graceful end: GOAWAY naming the last stream we will serve; streams
  // already open finish. `error_code` 0 = NO_ERROR.
  void goaway(std::uint32_t error_code = 0);
  bool goaway_sent() const { return goaway_sent_; }  // submitted (by us or nghttp2)

  std::size_t open_streams() const { return open_streams_; }
  // The last nghttp2 error text (for logs).
  std::string_view last_error() const { return last_error_; }

 private:
  struct Callbacks;
  bool check(int rv);
  bool recently_closed(StreamId id) const;

  SessionHandler& handler_;
  const HttpSettings& settings_;
  nghttp2_session* session_ = nullptr;
  std::size_t open_streams_ = 0;
  bool goaway_sent_ = false;
  std::string last_error_;
  // RFC 9113 5.1.1 (nghttp2 ignores it): a HEADERS frame opening a stream id
  // lower than one the client used is a connection error, unless the id is
  // one of the last streams closed (trailers racing our RST_STREAM).
  StreamId highest_stream_ = 0;
  std::array<StreamId, 64> closed_ring_{};
  std::size_t closed_next_ = 0;
};

}  // namespace pagi::gateway::http2
