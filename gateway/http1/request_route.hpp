// Which protocol serves a parsed request head: plain HTTP, an SSE stream,
// a WebSocket upgrade, an h2c upgrade, or a refusal. It builds the scope
// (ScopeBuilder), gives it its request id and TLS data, and the websocket
// or sse variant of it; the connection then acts on the route.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http1/connection.hpp"
#include "gateway/http1/request_head.hpp"
#include "gateway/http1/scope_builder.hpp"
#include "workers/scope_request.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway::http1 {

struct Route {
  enum class Kind : std::uint8_t {
    http,            // an exchange with `scope`
    sse,             // an exchange in SSE mode with `scope` (type sse)
    websocket,       // hand the socket to a websocket session; `token` is Sec-WebSocket-Key
    h2c,             // hand the socket to HTTP/2; `token` is the HTTP2-Settings value
    reject_upgrade,  // a broken websocket upgrade: `status` 400 or 426
    reject,          // the gateway answers `status` itself
  };
  Kind kind = Kind::http;
  // Valid until the next route(); the connection may still set its body.
  workers::ScopeRequest* scope = nullptr;
  std::string_view token;
  std::uint16_t status = 0;
};

class RequestRouter {
 public:
  // `closing`: the connection ends after this response (no upgrades).
  // `request_id` receives the request's id: the client's when valid, else
  // a new one. `extras` may be null.
  Route route(const RequestHead& head, const PeerInfo& peer, const ConnectionExtras* extras, bool closing,
              workers::ScopeOpener& opener, std::string& request_id);

 private:
  ScopeBuilder builder_;
  workers::ScopeRequest id_scope_;              // the built scope plus its request id
  workers::ScopeRequest special_scope_;         // a websocket/sse copy of it
  std::vector<std::string_view> subprotocols_;  // views into the request head
};

}  // namespace pagi::gateway::http1
