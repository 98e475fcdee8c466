// Limits and timeouts of client-facing HTTP. Every field is a config key
// under `http:` (docs/configuration.md); the defaults here are the documented
// defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace pagi::gateway {

using Seconds = std::chrono::duration<double>;

struct HttpSettings {
  // Request line (method, target, version) longest accepted -> 414.
  std::size_t max_request_line = 8 * 1024;
  // Whole header section -> 431.
  std::size_t max_header_bytes = 32 * 1024;
  // Header fields per request -> 431.
  std::size_t max_headers = 100;
  // Request body, declared or streamed -> 413. 0 = unlimited.
  std::uint64_t max_body_bytes = 1024ull * 1024 * 1024;
  // Open client connections; further accepts wait.
  std::size_t max_connections = 10000;
  // HTTP/1: complete requests parsed ahead of the one being answered;
  // at this count reading stops until it is answered.
  std::size_t max_pipelined = 16;
  // From connection accept (or end of the previous response) to a complete
  // request head.
  Seconds header_timeout{30};
  // Idle keep-alive connection between requests.
  Seconds keepalive_timeout{15};
  // No response started by then -> 504. 0 = off.
  Seconds request_timeout{60};
  // A write making no progress for this long aborts the connection.
  Seconds write_timeout{30};
  // Client stopped sending the body mid-request.
  Seconds body_timeout{60};
  // Graceful shutdown: in-flight scopes get this long to finish.
  Seconds shutdown_timeout{30};
  // Retry-After (seconds) on the gateway's own 503 responses.
  std::uint32_t retry_after_seconds = 1;
  // Value of the Server response header; empty = none.
  std::string server_header;
  // Echo the request id (x-request-id when valid, else generated) in this
  // response header; empty = not echoed.
  std::string request_id_header;

  // WebSocket (gateway/websocket/). A message (all fragments) larger than
  // this closes the connection with 1009.
  std::size_t max_ws_message_size = 16 * 1024 * 1024;
  // One frame's payload larger than this closes the connection with 1009.
  std::size_t max_ws_frame_size = 16 * 1024 * 1024;
  // Messages waiting in the gateway for the app's credit; one more closes
  // the connection with 1008 (queue_overflow).
  std::size_t ws_max_queue = 1000;
  // No frame either way for this long closes a WebSocket with 1001. 0 = off.
  Seconds ws_idle_timeout{0};

  // HTTP/2 (gateway/http2/). Streams one client may have open at once
  // (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused.
  std::uint32_t h2_max_concurrent_streams = 100;
  // Request-body window of a stream (SETTINGS_INITIAL_WINDOW_SIZE). It is
  // reopened only as the app takes the bytes, so it bounds gateway memory.
  std::uint32_t h2_stream_window = 256 * 1024;
  // Request-body window of the whole connection.
  std::uint32_t h2_connection_window = 1024 * 1024;
  // A stream with no frame either way for this long is reset (one sweep
  // timer per connection). 0 = off.
  Seconds h2_stream_timeout{0};
  // Rapid Reset (CVE-2023-44487): client RST_STREAMs allowed in a burst,
  // then per second; beyond that the connection ends with GOAWAY.
  std::uint32_t h2_reset_burst = 1000;
  std::uint32_t h2_resets_per_second = 33;
  // CONTINUATION frames allowed after one HEADERS frame.
  std::uint32_t h2_max_continuations = 8;
  // Entries allowed in one SETTINGS frame, and SETTINGS/PING acks queued
  // for a client that does not read (flood defence).
  std::uint32_t h2_max_settings = 32;
  std::uint32_t h2_max_queued_acks = 1000;

  // SSE (gateway/sse/): nothing written to a started stream for this long
  // ends it (idle_timeout). 0 = off.
  Seconds sse_idle_timeout{0};
};

}  // namespace pagi::gateway
