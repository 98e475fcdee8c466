#include "gateway/http1/head_scanner.hpp"

#include <cstdint>

namespace pagi::gateway::http1 {
namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Content-Length must be 1*DIGIT that fits 64 bits: no lists, no signs.
bool valid_content_length(std::string_view v) {
  v = trim_ows(v);
  if (v.empty()) return false;
  std::uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  return true;
}

// Framing facts gathered across all header lines.
struct Framing {
  int content_length_fields = 0;
  bool content_length_bad = false;
  bool transfer_encoding = false;
  bool chunked_seen = false;  // some coding so far was chunked
  bool chunked_last = false;  // the last coding so far is chunked
  bool chunked_twice = false;
  bool other_coding = false;
  bool empty_coding_list = false;

  void add_transfer_encoding(std::string_view value) {
    transfer_encoding = true;
    bool any = false;
    while (true) {
      const auto comma = value.find(',');
      const auto item = trim_ows(value.substr(0, comma));
      if (!item.empty()) {
        any = true;
        if (iequals(item, "chunked")) {
          if (chunked_seen) chunked_twice = true;
          chunked_seen = true;
          chunked_last = true;
        } else {
          other_coding = true;
          chunked_last = false;
        }
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
    if (!any) empty_coding_list = true;
  }

  RequestError verdict(bool http10) const {
    if (content_length_bad) return RequestError::smuggling;
    if (content_length_fields > 1) return RequestError::smuggling;
    if (!transfer_encoding) return RequestError::none;
    // RFC 9112 6.1/6.3: TE with CL, TE in HTTP/1.0, chunked not final or
    // applied twice are all faulty framing; unknown codings are 501.
    if (content_length_fields > 0 || http10) return RequestError::smuggling;
    if (empty_coding_list || !chunked_last || chunked_twice) return RequestError::smuggling;
    if (other_coding) return RequestError::unsupported_coding;
    return RequestError::none;
  }
};

HeadScan fail(RequestError e) {
  HeadScan s;
  s.status = HeadScan::Status::error;
  s.error = e;
  return s;
}

}  // namespace

HeadScan scan_request_head(std::string_view input, const HeadLimits& limits) noexcept {
  // Request line.
  const auto first_lf = input.find('\n');
  if (first_lf == std::string_view::npos) {
    // Without a line end yet, more than the limit plus a CR means 414 now.
    if (input.size() > limits.max_request_line + 1) return fail(RequestError::request_line_too_long);
    return {};
  }
  if (first_lf == 0 || input[first_lf - 1] != '\r') return fail(RequestError::malformed);
  const std::size_t line_len = first_lf - 1;
  if (line_len > limits.max_request_line) return fail(RequestError::request_line_too_long);
  const auto request_line = input.substr(0, line_len);
  if (request_line.find('\r') != std::string_view::npos) return fail(RequestError::malformed);
  const auto last_space = request_line.rfind(' ');
  const bool http10 = last_space != std::string_view::npos && request_line.substr(last_space + 1) == "HTTP/1.0";

  // Header lines.
  const std::size_t fields_start = first_lf + 1;
  std::size_t pos = fields_start;
  std::size_t fields = 0;
  Framing framing;
  while (true) {
    const auto lf = input.find('\n', pos);
    if (lf == std::string_view::npos) {
      if (input.size() - fields_start > limits.max_header_bytes) return fail(RequestError::headers_too_large);
      return {};
    }
    if (lf + 1 - fields_start > limits.max_header_bytes) return fail(RequestError::headers_too_large);
    if (lf == pos || input[lf - 1] != '\r') return fail(RequestError::malformed);  // bare LF
    const auto line = input.substr(pos, lf - 1 - pos);
    pos = lf + 1;
    if (line.empty()) break;  // end of the head
    if (line.find('\r') != std::string_view::npos) return fail(RequestError::malformed);
    if (is_ows(line.front())) return fail(RequestError::smuggling);  // obs-fold
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(RequestError::malformed);
    if (is_ows(line[colon - 1])) return fail(RequestError::smuggling);  // "Name : value"
    if (++fields > limits.max_headers) return fail(RequestError::headers_too_large);
    const auto name = line.substr(0, colon);
    const auto value = line.substr(colon + 1);
    if (iequals(name, "content-length")) {
      ++framing.content_length_fields;
      if (!valid_content_length(value)) framing.content_length_bad = true;
    } else if (iequals(name, "transfer-encoding")) {
      framing.add_transfer_encoding(value);
    }
  }
  if (const auto e = framing.verdict(http10); e != RequestError::none) return fail(e);
  HeadScan done;
  done.status = HeadScan::Status::complete;
  done.head_bytes = pos;
  return done;
}

}  // namespace pagi::gateway::http1
