// Sans-I/O HTTP/1 response serialisation: the head the gateway writes for an
// app's http.response.start (framing, Connection, Date and Server decided
// here, per the Www spec's "Server-Supplied Headers and Behaviors"), chunk
// framing, and the short text/plain responses the gateway originates itself.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "workers/scope_request.hpp"

namespace pagi::gateway::http1 {

enum class BodyFraming : std::uint8_t {
  none,             // HEAD, 1xx, 204, 304: no body bytes are written
  content_length,   // the app's Content-Length
  chunked,          // HTTP/1.1 without Content-Length
  close_delimited,  // HTTP/1.0 without Content-Length: the close ends the body
};

struct ResponseContext {
  int request_version = 11;  // 10 or 11
  bool head_method = false;
  bool client_keep_alive = true;   // the request allows a persistent connection
  bool must_close = false;         // the gateway closes after this response
  std::string_view date;           // current HTTP-date
  std::string_view server_header;  // "" = none
  // Request id echoed in `request_id_header` unless the app set that
  // field itself; either empty = not echoed.
  std::string_view request_id_header;
  std::string_view request_id;
};

struct ResponsePlan {
  BodyFraming framing = BodyFraming::none;
  std::optional<std::uint64_t> content_length;
  bool keep_alive = false;
};

std::string_view reason_phrase(std::uint16_t status) noexcept;

// Appends the head to `out` and says how the body is framed. The app's
// Transfer-Encoding and Connection fields are dropped: the gateway owns them.
ResponsePlan write_response_head(std::string& out, const ResponseContext& ctx, std::uint16_t status,
                                 std::span<const workers::HeaderView> headers);

void append_chunk(std::string& out, std::string_view data);
void append_chunk_header(std::string& out, std::uint64_t size);
// "0\r\n", the trailer fields, "\r\n".
void append_last_chunk(std::string& out, std::span<const workers::HeaderView> trailers);

// A complete gateway-generated response with a short text/plain body.
// retry_after_seconds > 0 adds Retry-After. Always keeps the body framed
// by Content-Length; `close` adds Connection: close.
void write_server_response(std::string& out, const ResponseContext& ctx, std::uint16_t status, bool close,
                           std::uint32_t retry_after_seconds = 0);

}  // namespace pagi::gateway::http1
