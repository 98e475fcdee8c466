#include "gateway/http1/request_route.hpp"

#include <optional>

#include "gateway/observability/request_id.hpp"
#include "gateway/sse/detection.hpp"
#include "gateway/websocket/handshake.hpp"

namespace pagi::gateway::http1 {
namespace {

// Upgrade: h2c (RFC 7540 3.2) with one HTTP2-Settings field: its value.
std::optional<std::string_view> h2c_upgrade_settings(std::span<const workers::HeaderView> headers) {
  bool upgrade = false;
  std::optional<std::string_view> settings;
  for (const auto& h : headers) {
    if (h.name == "upgrade" && (h.value == "h2c" || h.value.starts_with("h2c,") || h.value.starts_with("h2c ")))
      upgrade = true;
    else if (h.name == "http2-settings")
      settings = settings ? std::nullopt : std::optional(h.value);
  }
  return upgrade ? settings : std::nullopt;
}

}  // namespace

Route RequestRouter::route(const RequestHead& head, const PeerInfo& peer, const ConnectionExtras* extras, bool closing,
                           workers::ScopeOpener& opener, std::string& request_id) {
  const workers::ScopeRequest& built = builder_.build(head, peer);
  // Every scope carries a request id: the client's when valid, else a new one.
  observability::choose_request_id(built.headers, observability::process_request_ids(), request_id);
  id_scope_ = built;
  id_scope_.request_id = request_id;
  const bool tls = extras && extras->tls;
  if (tls) {  // TLS connection (gateway/tls/)
    id_scope_.scheme = "https";
    id_scope_.tls = extras->tls.get();
    id_scope_.extensions |= wire::EXT_TLS;
  }
  workers::ScopeRequest* scope = &id_scope_;
  if (extras && extras->h2c_upgrade && !head.has_body() && head.version() >= 11 && !closing) {
    if (auto settings = h2c_upgrade_settings(scope->headers)) return {Route::Kind::h2c, scope, *settings, 0};
  }
  const auto upgrade = websocket::check_upgrade(scope->method, head.version(), scope->headers);
  if (upgrade.verdict != websocket::UpgradeVerdict::not_websocket) {
    if (upgrade.verdict == websocket::UpgradeVerdict::bad_version) return {Route::Kind::reject_upgrade, scope, {}, 426};
    if (upgrade.verdict == websocket::UpgradeVerdict::bad_request || head.has_body())
      return {Route::Kind::reject_upgrade, scope, {}, 400};
    if (closing) return {Route::Kind::reject, scope, {}, 503};
    special_scope_ = *scope;
    special_scope_.type = wire::ScopeType::WEBSOCKET;
    special_scope_.scheme = tls ? "wss" : "ws";
    special_scope_.extensions = wire::EXT_WEBSOCKET_HTTP_RESPONSE | (scope->extensions & wire::EXT_TLS);
    special_scope_.has_body = false;
    websocket::parse_subprotocols(scope->headers, subprotocols_);
    special_scope_.subprotocols = subprotocols_;
    // A pool whose app takes no websocket scopes sees a plain request.
    if (opener.supports(special_scope_)) return {Route::Kind::websocket, &special_scope_, upgrade.key, 0};
    return {Route::Kind::http, scope, {}, 0};
  }
  if (sse::accepts_event_stream(scope->headers)) {
    special_scope_ = *scope;
    special_scope_.type = wire::ScopeType::SSE;
    // An ASGI pool has no sse scope: the request goes as plain http.
    if (opener.supports(special_scope_)) return {Route::Kind::sse, &special_scope_, {}, 0};
  }
  return {Route::Kind::http, scope, {}, 0};
}

}  // namespace pagi::gateway::http1
