// What a transport connection uses to fill an ExchangeRecord as an exchange
// goes and to hand it to the observer when it ends. Every call is a cheap
// no-op without an observer (no access log, no admin listener), so the hot
// path pays nothing for what is switched off.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "gateway/observability/exchange_observer.hpp"
#include "protocol/disconnect_reason.hpp"
#include "workers/scope_request.hpp"

namespace pagi::gateway::observability {

class ExchangeRecorder {
 public:
  explicit ExchangeRecorder(ExchangeObserver* observer, std::string_view protocol = "http1")
      : observer_(observer), headers_(observer != nullptr && observer->wants_headers()) {
    record_.protocol = protocol;
  }

  bool enabled() const { return observer_ != nullptr; }
  ExchangeObserver* observer() const { return observer_; }
  bool in_exchange() const { return open_; }

  void connection_opened() {
    if (observer_) observer_->on_connection_opened(record_.protocol);
  }
  void connection_closed() {
    if (observer_) observer_->on_connection_closed(record_.protocol);
  }

  // A scope opens (its request head is complete).
  void begin(const workers::ScopeRequest& scope);
  // A request the gateway rejects before it has a scope (400, 408, 414...).
  void begin_rejected(std::string_view client_host, std::uint16_t client_port, std::string_view request_id);

  void response_head(std::uint16_t status, std::span<const workers::HeaderView> headers, std::size_t head_bytes,
                     bool gateway_response);
  // Bytes read between exchanges (the next request's head) count for the next one.
  void bytes_in(std::uint64_t n) {
    if (open_)
      record_.bytes_in += n;
    else if (observer_)
      pending_in_ += n;
  }
  void bytes_out(std::uint64_t n) {
    if (open_) record_.bytes_out += n;
  }
  void upstream(std::string_view pool, int worker_pid);
  // WebSocket: the first Close frame's code (sent or received) is kept.
  void close_code(std::uint16_t code) {
    if (open_ && record_.close_code == 0) record_.close_code = code;
  }
  // Bytes read since the last exchange ended, handed to whoever takes the
  // connection over (a WebSocket session counts its upgrade request).
  std::uint64_t take_pending_in() {
    const auto n = pending_in_;
    pending_in_ = 0;
    return n;
  }
  // The exchange ended (reason none: completed). Calls the observer once.
  void finish(DisconnectReason reason);

 private:
  ExchangeObserver* observer_;
  bool headers_;  // some observer reads the record's headers
  ExchangeRecord record_;
  bool open_ = false;
  std::uint64_t pending_in_ = 0;
};

}  // namespace pagi::gateway::observability
