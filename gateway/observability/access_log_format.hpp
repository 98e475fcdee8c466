// Access log line formats: the presets (common, combined, tiny, json) and
// custom formats made of %atoms, compiled once at startup and rendered per
// exchange into a reused string. Sans-I/O: no file, no clock reads.
//
// Atoms (docs/operations.md has the table):
//   %h client address ("-" for a Unix-socket peer)   %l %u  "-" (CLF)
//   %t [CLF time]  %{iso}t ISO 8601 time (UTC, ms)    %r request line
//   %m method  %U path as sent  %q ?query or ""  %H protocol (HTTP/1.1)
//   %s status  %b body bytes ("-" for 0)  %B body bytes  %O bytes out  %I bytes in
//   %D duration in µs  %T duration in s  %{ms}T duration in ms (3 decimals)
//   %{Name}i request header  %{Name}o response header
//   %{request_id}x %{pool}x %{worker_pid}x %{scope}x %{disconnect}x
//   %{upstream_ms}x %{upstream_us}x %{gateway}x (1 when the gateway answered)
//   %{close_code}x WebSocket close code ("-" for other scopes)
//   %R request id  %P worker pid  %%  a percent sign
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/observability/exchange_record.hpp"

namespace pagi::gateway::observability {

class AccessLogFormat {
 public:
  // A preset name or a custom format. Throws std::invalid_argument naming
  // the bad atom.
  static AccessLogFormat compile(std::string_view spec);

  // Appends one line (with its '\n') for `record` to `out`.
  void render(const ExchangeRecord& record, std::string& out) const;
  bool is_json() const { return json_; }
  // Whether render() reads request or response headers (json does; a custom
  // format when it has %{Name}i or %{Name}o).
  bool uses_headers() const;

 private:
  enum class Atom : std::uint8_t {
    literal,
    client,
    dash,
    clf_time,
    iso_time,
    request_line,
    method,
    path,
    query,
    protocol,
    status,
    body_bytes_clf,
    body_bytes,
    bytes_out,
    bytes_in,
    duration_us,
    duration_s,
    duration_ms,
    request_header,
    response_header,
    request_id,
    pool,
    worker_pid,
    scope,
    disconnect,
    upstream_ms,
    upstream_us,
    gateway,
    close_code,
  };
  struct Part {
    Atom atom;
    std::string text;  // literal text, or the header name
  };

  void render_json(const ExchangeRecord& record, std::string& out) const;

  std::vector<Part> parts_;
  bool json_ = false;
};

// "[01/Dec/2026:03:57:58 +0000]" and "2026-12-01T03:57:58.123Z" (UTC).
void append_clf_time(std::string& out, ExchangeRecord::WallClock::time_point t);
void append_iso_time(std::string& out, ExchangeRecord::WallClock::time_point t);

}  // namespace pagi::gateway::observability
