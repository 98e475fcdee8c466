// A strict pre-scan of a raw HTTP/1 request head, run before Beast parses it.
// Beast has a single header limit and accepts some framing that proxies in
// front of us may read differently (obs-fold, equal duplicate
// Content-Length, Transfer-Encoding without chunked last), so this scanner
// measures the request line and header section itself and rejects every
// ambiguous framing with its own error. Sans-I/O: bytes in, verdict out.
#pragma once

#include <cstddef>
#include <string_view>

#include "gateway/http1/request_error.hpp"

namespace pagi::gateway::http1 {

struct HeadLimits {
  std::size_t max_request_line = 0;  // bytes before the request line's CRLF
  std::size_t max_header_bytes = 0;  // header lines through the final CRLF
  std::size_t max_headers = 0;       // header fields
};

struct HeadScan {
  enum class Status { need_more, complete, error };
  Status status = Status::need_more;
  RequestError error = RequestError::none;
  std::size_t head_bytes = 0;  // complete: request line through the empty line
};

// `input` starts at the first byte of a request line.
HeadScan scan_request_head(std::string_view input, const HeadLimits& limits) noexcept;

}  // namespace pagi::gateway::http1
