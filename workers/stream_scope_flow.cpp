#include "workers/stream_scope_flow.hpp"

namespace pagi::workers {

FlowVerdict WsScopeFlow::on_accept() {
  switch (phase_) {
    case WsPhase::connecting: phase_ = WsPhase::accepted; return FlowVerdict::deliver;
    case WsPhase::denying: return violation("websocket.accept after a denial response");
    case WsPhase::closing:
    case WsPhase::closed: return FlowVerdict::ignore;
    case WsPhase::accepted: break;
  }
  return violation("second websocket.accept");
}

FlowVerdict WsScopeFlow::on_send() {
  switch (phase_) {
    case WsPhase::accepted: return FlowVerdict::deliver;
    case WsPhase::closing:
    case WsPhase::closed: return FlowVerdict::ignore;  // a send after close is a no-op
    case WsPhase::connecting: return violation("websocket.send before websocket.accept");
    case WsPhase::denying: break;
  }
  return violation("websocket.send after a denial response");
}

FlowVerdict WsScopeFlow::on_close() {
  switch (phase_) {
    case WsPhase::connecting: phase_ = WsPhase::closed; return FlowVerdict::deliver;
    case WsPhase::accepted: phase_ = WsPhase::closing; return FlowVerdict::deliver;
    case WsPhase::closing:
    case WsPhase::closed: return FlowVerdict::ignore;
    case WsPhase::denying: break;
  }
  return violation("websocket.close during a denial response");
}

FlowVerdict WsScopeFlow::on_keepalive() {
  switch (phase_) {
    case WsPhase::connecting:
    case WsPhase::accepted: return FlowVerdict::deliver;
    case WsPhase::closing:
    case WsPhase::closed: return FlowVerdict::ignore;
    case WsPhase::denying: break;
  }
  return violation("websocket.keepalive during a denial response");
}

FlowVerdict WsScopeFlow::on_denial_start() {
  switch (phase_) {
    case WsPhase::connecting: phase_ = WsPhase::denying; return FlowVerdict::deliver;
    case WsPhase::accepted:
    case WsPhase::closing:
    case WsPhase::closed: return FlowVerdict::ignore;  // invalid after accept: ignored (spec)
    case WsPhase::denying: break;
  }
  return violation("second websocket.http.response.start");
}

FlowVerdict WsScopeFlow::on_denial_body(bool more) {
  switch (phase_) {
    case WsPhase::denying:
      if (!more) phase_ = WsPhase::closed;
      return FlowVerdict::deliver;
    case WsPhase::accepted:
    case WsPhase::closing:
    case WsPhase::closed: return FlowVerdict::ignore;
    case WsPhase::connecting: break;
  }
  return violation("websocket.http.response.body before its start");
}

FlowVerdict SseScopeFlow::on_start() {
  switch (phase_) {
    case SsePhase::awaiting_start: phase_ = SsePhase::streaming; return FlowVerdict::deliver;
    case SsePhase::declining: return violation("sse.start after sse.http.response.start");
    case SsePhase::streaming:
    case SsePhase::closed: break;
  }
  return violation("second sse.start");
}

FlowVerdict SseScopeFlow::on_event() {
  switch (phase_) {
    case SsePhase::streaming: return FlowVerdict::deliver;
    case SsePhase::awaiting_start: return violation("sse event before sse.start");
    case SsePhase::closed: return violation("sse event after sse.close");
    case SsePhase::declining: break;
  }
  return violation("sse event after sse.http.response.start");
}

FlowVerdict SseScopeFlow::on_close() {
  switch (phase_) {
    case SsePhase::streaming: phase_ = SsePhase::closed; return FlowVerdict::deliver;
    case SsePhase::closed: return FlowVerdict::ignore;  // idempotent
    case SsePhase::awaiting_start: return violation("sse.close before sse.start");
    case SsePhase::declining: break;
  }
  return violation("sse.close after sse.http.response.start");
}

FlowVerdict SseScopeFlow::on_decline() {
  switch (phase_) {
    case SsePhase::awaiting_start: phase_ = SsePhase::declining; return FlowVerdict::deliver;
    case SsePhase::declining: return violation("second sse.http.response.start");
    case SsePhase::streaming:
    case SsePhase::closed: break;
  }
  return violation("sse.http.response.start after sse.start");
}

FlowVerdict SseScopeFlow::on_decline_body() {
  if (phase_ == SsePhase::declining) return FlowVerdict::deliver;
  return violation("sse.http.response.body without sse.http.response.start");
}

}  // namespace pagi::workers
