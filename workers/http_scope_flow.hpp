// The order and flow-control rules of one HTTP scope, as the gateway checks
// them on what a worker sends (docs/protocol.md "A scope"). Sans-I/O: the
// pool feeds it events and acts on the verdict; any error is a protocol
// violation that costs the worker its connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pagi::workers {

enum class ScopeEventError : std::uint8_t {
  ok = 0,
  body_before_start,       // http.response.body before http.response.start
  second_start,            // a second http.response.start
  trailers_not_announced,  // trailers without start.trailers, or before the body ended
  after_final_body,        // anything but scopeEnd after the response completed
  window_overrun,          // response body beyond the send window by more than one event
  wrong_scope_type,        // an event that does not belong to an http scope
};
std::string_view to_string(ScopeEventError e) noexcept;

enum class ResponsePhase : std::uint8_t {
  awaiting_start,
  body,               // started; more body may follow
  awaiting_trailers,  // final body sent, trailers announced
  complete,           // final body (and trailers) sent
};

class HttpScopeFlow {
 public:
  // `request_window`: body bytes the worker takes before its first credit
  // (0 for an expect-continue scope until the worker asks).
  HttpScopeFlow(std::uint32_t send_window, std::uint32_t receive_window, std::size_t request_window);

  ScopeEventError on_start(bool trailers);
  // `bytes` counts against the send window; file bodies pass 0 and end the body.
  ScopeEventError on_body(std::size_t bytes, bool more, bool file);
  ScopeEventError on_trailers();
  // websocket.send / sse.send payload bytes: the send window rule of on_body,
  // whatever the response phase.
  ScopeEventError on_stream_bytes(std::size_t bytes);
  ScopeEventError on_flush() const;
  ScopeEventError on_early_hint() const;

  // `bytes` reached the client; returns the credit to give back (never more
  // than the worker has in flight).
  std::size_t on_response_written(std::size_t bytes);
  std::size_t response_in_flight() const { return response_in_flight_; }

  // Request body side.
  std::size_t request_window() const { return request_window_; }
  void on_request_sent(std::size_t bytes);
  // Worker credit; capped so a worker cannot make the gateway buffer more
  // than receive_window ahead of it.
  void on_request_credit(std::size_t bytes);
  // How much credit the worker has granted in all (the first grant of an
  // expect-continue scope is the 100 Continue moment).
  std::uint64_t credit_grants() const { return credit_grants_; }

  ResponsePhase phase() const { return phase_; }
  bool started() const { return phase_ != ResponsePhase::awaiting_start; }

 private:
  ResponsePhase phase_ = ResponsePhase::awaiting_start;
  bool trailers_ = false;
  std::uint32_t send_window_;
  std::uint32_t receive_window_;
  std::size_t response_in_flight_ = 0;
  std::size_t request_window_;
  std::uint64_t credit_grants_ = 0;
};

}  // namespace pagi::workers
