// The hook transports call when a connection opens or closes and when an
// exchange ends (every response, gateway-generated ones included, and every
// WebSocket/SSE session at its end). The access log and the metrics are
// observers; ObserverList fans one call out to several.
//
// Calls happen on the io_context thread; an observer must return quickly and
// never block (the access log hands lines to its writer thread).
#pragma once

#include <string_view>
#include <vector>

#include "gateway/observability/exchange_record.hpp"

namespace pagi::gateway::observability {

class ExchangeObserver {
 public:
  virtual ~ExchangeObserver() = default;
  // `protocol`: "http1", "http2", "websocket", "sse" (a connection that
  // changes protocol closes the old one and opens the new one).
  virtual void on_connection_opened(std::string_view protocol) {}
  virtual void on_connection_closed(std::string_view protocol) {}
  virtual void on_exchange_end(const ExchangeRecord& record) = 0;
  // A WebSocket or SSE scope opened ("websocket" / "sse"); its
  // on_exchange_end, with the same scope_type, ends it.
  virtual void on_session_opened(std::string_view scope_type) {}
  // Whether on_exchange_end reads the record's request_headers and
  // response_headers. When no observer does, the recorder does not copy
  // them (the metrics never do; an access log only when its format names a
  // header). Asked once, when a connection's recorder is made.
  virtual bool wants_headers() const { return true; }
};

class ObserverList final : public ExchangeObserver {
 public:
  void add(ExchangeObserver* observer) {
    if (observer) observers_.push_back(observer);
  }
  bool empty() const { return observers_.empty(); }
  void on_connection_opened(std::string_view protocol) override {
    for (auto* o : observers_) o->on_connection_opened(protocol);
  }
  void on_connection_closed(std::string_view protocol) override {
    for (auto* o : observers_) o->on_connection_closed(protocol);
  }
  void on_exchange_end(const ExchangeRecord& record) override {
    for (auto* o : observers_) o->on_exchange_end(record);
  }
  void on_session_opened(std::string_view scope_type) override {
    for (auto* o : observers_) o->on_session_opened(scope_type);
  }
  bool wants_headers() const override {
    for (auto* o : observers_)
      if (o->wants_headers()) return true;
    return false;
  }

 private:
  std::vector<ExchangeObserver*> observers_;
};

}  // namespace pagi::gateway::observability
