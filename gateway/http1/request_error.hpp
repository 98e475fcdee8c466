// Errors the HTTP/1 request codec reports. Each value drives both the
// server-generated response (status) and the log line (description); all of
// them end the connection after the response, since the framing of what
// follows can no longer be trusted.
#pragma once

#include <cstdint>
#include <string_view>

namespace pagi::gateway::http1 {

enum class RequestError : std::uint8_t {
  none = 0,
  malformed,              // bad request line, header syntax or body framing -> 400
  smuggling,              // ambiguous framing (TE+CL, duplicate CL, obs-fold...) -> 400
  body_too_large,         // declared or streamed body over max_body_bytes -> 413
  request_line_too_long,  // request line over max_request_line -> 414
  headers_too_large,      // header section over max_header_bytes or too many fields -> 431
  unsupported_coding,     // a transfer-coding other than chunked -> 501
  incomplete,             // the client closed mid-message (no response possible)
};

constexpr std::uint16_t status_of(RequestError e) noexcept {
  switch (e) {
    case RequestError::none: return 200;
    case RequestError::malformed:
    case RequestError::smuggling: return 400;
    case RequestError::body_too_large: return 413;
    case RequestError::request_line_too_long: return 414;
    case RequestError::headers_too_large: return 431;
    case RequestError::unsupported_coding: return 501;
    case RequestError::incomplete: return 400;
  }
  return 400;
}

constexpr std::string_view describe(RequestError e) noexcept {
  switch (e) {
    case RequestError::none: return "ok";
    case RequestError::malformed: return "malformed request";
    case RequestError::smuggling: return "ambiguous message framing";
    case RequestError::body_too_large: return "request body too large";
    case RequestError::request_line_too_long: return "request line too long";
    case RequestError::headers_too_large: return "request header section too large";
    case RequestError::unsupported_coding: return "unsupported transfer-coding";
    case RequestError::incomplete: return "connection closed mid-request";
  }
  return "unknown";
}

}  // namespace pagi::gateway::http1
