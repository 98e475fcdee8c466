#include "workers/http_scope_flow.hpp"

#include <algorithm>

namespace pagi::workers {

std::string_view to_string(ScopeEventError e) noexcept {
  switch (e) {
    case ScopeEventError::ok: return "ok";
    case ScopeEventError::body_before_start: return "response body before response start";
    case ScopeEventError::second_start: return "second response start";
    case ScopeEventError::trailers_not_announced: return "trailers not announced or too early";
    case ScopeEventError::after_final_body: return "event after the final response body";
    case ScopeEventError::window_overrun: return "response body beyond the send window";
    case ScopeEventError::wrong_scope_type: return "event of another scope type";
  }
  return "unknown";
}

HttpScopeFlow::HttpScopeFlow(std::uint32_t send_window, std::uint32_t receive_window, std::size_t request_window)
    : send_window_(send_window), receive_window_(receive_window), request_window_(request_window) {}

ScopeEventError HttpScopeFlow::on_start(bool trailers) {
  if (phase_ == ResponsePhase::complete) return ScopeEventError::after_final_body;
  if (phase_ != ResponsePhase::awaiting_start) return ScopeEventError::second_start;
  phase_ = ResponsePhase::body;
  trailers_ = trailers;
  return ScopeEventError::ok;
}

ScopeEventError HttpScopeFlow::on_body(std::size_t bytes, bool more, bool file) {
  switch (phase_) {
    case ResponsePhase::awaiting_start: return ScopeEventError::body_before_start;
    case ResponsePhase::awaiting_trailers:
    case ResponsePhase::complete: return ScopeEventError::after_final_body;
    case ResponsePhase::body: break;
  }
  // One event may overshoot the window (the SDK sends an event that does not
  // fit when nothing is in flight); sending while the window is already
  // exhausted is the violation.
  if (bytes > 0 && response_in_flight_ > 0 && response_in_flight_ >= send_window_) {
    return ScopeEventError::window_overrun;
  }
  response_in_flight_ += bytes;
  if (file || !more) phase_ = trailers_ ? ResponsePhase::awaiting_trailers : ResponsePhase::complete;
  return ScopeEventError::ok;
}

ScopeEventError HttpScopeFlow::on_stream_bytes(std::size_t bytes) {
  if (bytes > 0 && response_in_flight_ > 0 && response_in_flight_ >= send_window_) {
    return ScopeEventError::window_overrun;
  }
  response_in_flight_ += bytes;
  return ScopeEventError::ok;
}

ScopeEventError HttpScopeFlow::on_trailers() {
  if (phase_ == ResponsePhase::complete) return ScopeEventError::after_final_body;
  if (phase_ != ResponsePhase::awaiting_trailers) return ScopeEventError::trailers_not_announced;
  phase_ = ResponsePhase::complete;
  return ScopeEventError::ok;
}

ScopeEventError HttpScopeFlow::on_flush() const {
  if (phase_ == ResponsePhase::complete) return ScopeEventError::after_final_body;
  return ScopeEventError::ok;
}

ScopeEventError HttpScopeFlow::on_early_hint() const {
  if (phase_ == ResponsePhase::complete) return ScopeEventError::after_final_body;
  // A hint after the final response started is meaningless but harmless: the
  // pool drops it rather than punishing the worker.
  return ScopeEventError::ok;
}

std::size_t HttpScopeFlow::on_response_written(std::size_t bytes) {
  const std::size_t credit = std::min(bytes, response_in_flight_);
  response_in_flight_ -= credit;
  return credit;
}

void HttpScopeFlow::on_request_sent(std::size_t bytes) { request_window_ -= std::min(bytes, request_window_); }

void HttpScopeFlow::on_request_credit(std::size_t bytes) {
  ++credit_grants_;
  request_window_ = std::min<std::size_t>(request_window_ + bytes, receive_window_);
}

}  // namespace pagi::workers
