#include "gateway/observability/exchange_recorder.hpp"

namespace pagi::gateway::observability {

namespace {
std::string_view scope_name(wire::ScopeType type) {
  switch (type) {
    case wire::ScopeType::WEBSOCKET: return "websocket";
    case wire::ScopeType::SSE: return "sse";
    default: return "http";
  }
}
}  // namespace

void ExchangeRecorder::begin(const workers::ScopeRequest& scope) {
  if (!observer_) return;
  const auto protocol = record_.protocol;
  record_.clear();
  record_.protocol = protocol;
  open_ = true;
  record_.scope_type = scope_name(scope.type);
  record_.client_host.assign(scope.client_host);
  record_.client_port = scope.client_port;
  record_.method.assign(scope.method);
  record_.raw_path.assign(scope.raw_path);
  record_.query.assign(scope.query_string);
  record_.http_version.assign(scope.http_version);
  if (headers_)
    for (const auto& h : scope.headers) record_.request_headers.add(h.name, h.value);
  record_.request_id.assign(scope.request_id);
  record_.bytes_in = pending_in_;
  pending_in_ = 0;
  record_.started_wall = ExchangeRecord::WallClock::now();
  record_.started = record_.response_started = ExchangeRecord::SteadyClock::now();
  if (scope.type != wire::ScopeType::HTTP) observer_->on_session_opened(record_.scope_type);
}

void ExchangeRecorder::begin_rejected(std::string_view client_host, std::uint16_t client_port,
                                      std::string_view request_id) {
  if (!observer_) return;
  const auto protocol = record_.protocol;
  record_.clear();
  record_.protocol = protocol;
  open_ = true;
  record_.client_host.assign(client_host);
  record_.client_port = client_port;
  record_.request_id.assign(request_id);
  record_.bytes_in = pending_in_;
  pending_in_ = 0;
  record_.started_wall = ExchangeRecord::WallClock::now();
  record_.started = record_.response_started = ExchangeRecord::SteadyClock::now();
}

void ExchangeRecorder::response_head(std::uint16_t status, std::span<const workers::HeaderView> headers,
                                     std::size_t head_bytes, bool gateway_response) {
  if (!open_) return;
  record_.status = status;
  record_.gateway_response = gateway_response;
  record_.head_bytes_out = head_bytes;
  record_.response_headers.clear();
  if (headers_)
    for (const auto& h : headers) record_.response_headers.add(h.name, h.value);
  record_.response_started = ExchangeRecord::SteadyClock::now();
}

void ExchangeRecorder::upstream(std::string_view pool, int worker_pid) {
  if (!open_) return;
  if (!pool.empty()) record_.pool.assign(pool);
  if (worker_pid > 0) record_.worker_pid = worker_pid;
}

void ExchangeRecorder::finish(DisconnectReason reason) {
  if (!open_) return;
  open_ = false;
  record_.disconnect_reason = to_string(reason);
  record_.ended = ExchangeRecord::SteadyClock::now();
  observer_->on_exchange_end(record_);
}

}  // namespace pagi::gateway::observability
