// The conversation of websocket and sse scopes (docs/protocol.md 3a, 3b):
// the transport's calls that only these scopes make, and the worker's
// websocket.* / sse.* events, checked against WsScopeFlow / SseScopeFlow and
// the send window, then handed to the Downstream. pool_scopes.cpp routes
// every non-http scope event here. Same re-entrancy rule as there: update
// the record, then make the Downstream call last.
#include <spdlog/spdlog.h>

#include "workers/capnp_views.hpp"
#include "workers/pool_core.hpp"
#include "workers/stream_messages.hpp"
#include "workers/worker_messages.hpp"

namespace pagi::workers {
namespace {

std::uint32_t scope_bit(wire::ScopeType type) {
  switch (type) {
    case wire::ScopeType::HTTP: return wire::SCOPE_BIT_HTTP;
    case wire::ScopeType::WEBSOCKET: return wire::SCOPE_BIT_WEBSOCKET;
    case wire::ScopeType::SSE: return wire::SCOPE_BIT_SSE;
    default: return 0;
  }
}

}  // namespace

void PoolCore::send_message(std::uint64_t id, bool text, std::string_view payload) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr || record->finished() || record->worker_done) return;
  Worker* worker = find_worker(record->worker_id);
  if (worker == nullptr || !worker->holds_scope(id)) return;
  record->flow.on_request_sent(payload.size());
  messages::append_websocket_receive(worker->output(), id, text, payload);
  worker->flush();
}

void PoolCore::websocket_closed(std::uint64_t id, std::uint16_t code, std::string_view reason) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr || record->disconnected) return;
  record->disconnected = true;
  if (record->worker_id == 0) {  // still queued: the app never saw it
    queue_.remove(id);
    record->worker_done = true;
    return;
  }
  Worker* worker = find_worker(record->worker_id);
  if (worker == nullptr || !worker->holds_scope(id)) return;
  messages::append_websocket_disconnect(worker->output(), id, code, reason);
  worker->flush();
}

bool PoolCore::supports(const ScopeRequest& request) const {
  const std::uint32_t bit = scope_bit(request.type);
  if (bit == 0) return true;
  bool known = false;
  for (const auto& [wid, worker] : workers_) {
    if (!worker || worker->scope_types() == 0) continue;
    known = true;
    if ((worker->scope_types() & bit) != 0) return true;
  }
  return !known;  // no hello yet: assume the app takes it
}

void PoolCore::append_disconnect(Worker& worker, std::uint64_t id, const ScopeRecord& record, DisconnectReason reason) {
  switch (record.type) {
    case wire::ScopeType::WEBSOCKET:
      // An abnormal end seen from the gateway: 1006 with the reason token.
      messages::append_websocket_disconnect(worker.output(), id, 1006, to_string(reason));
      return;
    case wire::ScopeType::SSE: messages::append_sse_disconnect(worker.output(), id, reason); return;
    default: messages::append_http_disconnect(worker.output(), id, reason); return;
  }
}

void PoolCore::on_stream_scope_event(Worker& worker, std::uint64_t id, ScopeRecord& record,
                                     wire::Envelope::Reader message) {
  std::shared_ptr<Downstream> ds = record.downstream.lock();
  if (!ds) return;  // checked by the caller
  const bool ws = record.type == wire::ScopeType::WEBSOCKET;
  const bool sse = record.type == wire::ScopeType::SSE;
  FlowVerdict verdict = FlowVerdict::violation;
  std::string_view why = "event of another scope type";
  auto check_bytes = [&](ScopeEventError e) {
    if (e == ScopeEventError::ok) return true;
    verdict = FlowVerdict::violation;
    why = to_string(e);
    return false;
  };
  switch (message.which()) {
    case wire::Envelope::CREDIT:
      record.flow.on_request_credit(message.getCredit().getBytes());
      ds->on_request_credit();
      return;

    case wire::Envelope::WEBSOCKET_ACCEPT: {
      if (!ws) break;
      verdict = record.ws.on_accept();
      why = record.ws.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto accept = message.getWebsocketAccept();
      to_header_views(accept.getHeaders(), header_scratch_);
      ds->on_websocket_accept(accept.getHasSubprotocol() ? view(accept.getSubprotocol()) : std::string_view{},
                              header_scratch_);
      return;
    }
    case wire::Envelope::WEBSOCKET_SEND: {
      if (!ws) break;
      verdict = record.ws.on_send();
      why = record.ws.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto m = message.getWebsocketSend();
      const std::string_view payload = m.getIsText() ? view(m.getText()) : view(m.getBytes());
      if (!check_bytes(record.flow.on_stream_bytes(payload.size()))) break;
      ds->on_websocket_send(m.getIsText(), payload);
      return;
    }
    case wire::Envelope::WEBSOCKET_CLOSE: {
      if (!ws) break;
      verdict = record.ws.on_close();
      why = record.ws.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto c = message.getWebsocketClose();
      ds->on_websocket_close(c.getCode(), view(c.getReason()));
      return;
    }
    case wire::Envelope::WEBSOCKET_KEEPALIVE: {
      if (!ws) break;
      verdict = record.ws.on_keepalive();
      why = record.ws.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto k = message.getWebsocketKeepalive();
      ds->on_websocket_keepalive(k.getIntervalMs(), k.getTimeoutMs());
      return;
    }
    case wire::Envelope::WEBSOCKET_HTTP_RESPONSE_START: {
      if (!ws) break;
      verdict = record.ws.on_denial_start();
      why = record.ws.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto start = message.getWebsocketHttpResponseStart();
      if (!check_bytes(record.flow.on_start(false))) break;
      to_header_views(start.getHeaders(), header_scratch_);
      ds->on_response_start(start.getStatus(), header_scratch_, false);
      return;
    }
    case wire::Envelope::WEBSOCKET_HTTP_RESPONSE_BODY: {
      if (!ws) break;
      const auto body = message.getWebsocketHttpResponseBody();
      verdict = record.ws.on_denial_body(body.getMore());
      why = record.ws.error();
      if (verdict != FlowVerdict::deliver) break;
      const std::string_view bytes = view(body.getBody());
      if (!check_bytes(record.flow.on_body(bytes.size(), body.getMore(), false))) break;
      ds->on_response_body(bytes, body.getMore());
      return;
    }

    case wire::Envelope::SSE_START: {
      if (!sse) break;
      verdict = record.sse.on_start();
      why = record.sse.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto start = message.getSseStart();
      to_header_views(start.getHeaders(), header_scratch_);
      ds->on_sse_start(start.getStatus(), header_scratch_);
      return;
    }
    case wire::Envelope::SSE_SEND: {
      if (!sse) break;
      verdict = record.sse.on_event();
      why = record.sse.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto e = message.getSseSend();
      SseEventView event;
      event.data = view(e.getData());
      event.has_event = e.getHasEvent();
      event.event = view(e.getEvent());
      event.has_id = e.getHasId();
      event.id = view(e.getId());
      event.retry = e.getRetry();
      if (!check_bytes(record.flow.on_stream_bytes(event.data.size()))) break;
      ds->on_sse_send(event);
      return;
    }
    case wire::Envelope::SSE_COMMENT:
      if (!sse) break;
      verdict = record.sse.on_event();
      why = record.sse.error();
      if (verdict != FlowVerdict::deliver) break;
      ds->on_sse_comment(view(message.getSseComment()));
      return;
    case wire::Envelope::SSE_KEEPALIVE: {
      if (!sse) break;
      verdict = record.sse.on_event();
      why = record.sse.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto k = message.getSseKeepalive();
      ds->on_sse_keepalive(k.getIntervalMs(), view(k.getComment()));
      return;
    }
    case wire::Envelope::SSE_CLOSE:
      if (!sse) break;
      verdict = record.sse.on_close();
      why = record.sse.error();
      if (verdict != FlowVerdict::deliver) break;
      spdlog::debug("{}: scope {} sse.close: {}", describe(), id, view(message.getSseClose()));
      ds->on_sse_close(view(message.getSseClose()));
      return;
    case wire::Envelope::SSE_HTTP_RESPONSE_START: {
      if (!sse) break;
      verdict = record.sse.on_decline();
      why = record.sse.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto start = message.getSseHttpResponseStart();
      if (!check_bytes(record.flow.on_start(false))) break;
      to_header_views(start.getHeaders(), header_scratch_);
      ds->on_response_start(start.getStatus(), header_scratch_, false);
      return;
    }
    case wire::Envelope::SSE_HTTP_RESPONSE_BODY: {
      if (!sse) break;
      verdict = record.sse.on_decline_body();
      why = record.sse.error();
      if (verdict != FlowVerdict::deliver) break;
      const auto body = message.getSseHttpResponseBody();
      const std::string_view bytes = view(body.getBody());
      if (!check_bytes(record.flow.on_body(bytes.size(), body.getMore(), false))) break;
      ds->on_response_body(bytes, body.getMore());
      return;
    }
    default: break;
  }
  if (verdict == FlowVerdict::ignore) return;
  worker.fail(fmt::format("scope {}: {}", id, why));
}

}  // namespace pagi::workers
