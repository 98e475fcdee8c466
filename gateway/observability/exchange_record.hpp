// What one finished exchange (an HTTP response, a WebSocket or SSE session)
// looked like, handed to the ExchangeObservers (access log, metrics) when it
// ends. Filled by the transport through ExchangeRecorder; protocol-neutral,
// so HTTP/1, HTTP/2, WebSocket and SSE report the same record.
//
// Storage is reused between exchanges of a connection (clear() keeps the
// capacity), so recording costs no allocation once a connection is warm.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pagi::gateway::observability {

// Header fields as one byte buffer plus offsets: no allocation per field.
class HeaderStore {
 public:
  void clear() {
    bytes_.clear();
    fields_.clear();
  }
  void add(std::string_view name, std::string_view value);
  // The first field named `name` (compared case-insensitively), or nullptr.
  bool find(std::string_view name, std::string_view& value) const;
  std::size_t size() const { return fields_.size(); }
  std::string_view name(std::size_t i) const;
  std::string_view value(std::size_t i) const;

 private:
  struct Field {
    std::uint32_t name_at, name_len, value_at, value_len;
  };
  std::string bytes_;
  std::vector<Field> fields_;
};

struct ExchangeRecord {
  using SteadyClock = std::chrono::steady_clock;
  using WallClock = std::chrono::system_clock;

  std::string_view protocol = "http1";   // http1 | http2 | websocket | sse
  std::string_view scope_type = "http";  // http | websocket | sse
  std::string client_host;               // "" for a Unix-socket peer
  std::uint16_t client_port = 0;
  std::string method;        // "" when the head never parsed
  std::string raw_path;      // as sent, percent-encoded
  std::string query;         // without '?'
  std::string http_version;  // "1.0", "1.1", "2"
  HeaderStore request_headers;
  std::string request_id;

  std::uint16_t status = 0;       // 0: no response (aborted before one)
  bool gateway_response = false;  // the gateway answered, not the app
  HeaderStore response_headers;
  std::uint64_t bytes_in = 0;        // bytes read from the client for it
  std::uint64_t bytes_out = 0;       // bytes written to the client for it
  std::uint64_t head_bytes_out = 0;  // of which the response head

  std::string pool;                    // "" when no pool took it
  int worker_pid = 0;                  // 0 when no worker ran it
  std::string_view disconnect_reason;  // "" when it completed normally
  std::uint16_t close_code = 0;        // websocket: first Close frame's code, 1006 none; 0 otherwise

  WallClock::time_point started_wall{};
  SteadyClock::time_point started{};
  SteadyClock::time_point response_started{};  // == started when none
  SteadyClock::time_point ended{};

  std::uint64_t body_bytes_out() const { return bytes_out > head_bytes_out ? bytes_out - head_bytes_out : 0; }
  std::chrono::microseconds duration() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(ended - started);
  }
  // From opening the scope to the response head: the app's (and queue's) share.
  std::chrono::microseconds upstream_time() const {
    if (response_started < started) return std::chrono::microseconds(0);
    return std::chrono::duration_cast<std::chrono::microseconds>(response_started - started);
  }

  void clear();
};

}  // namespace pagi::gateway::observability
