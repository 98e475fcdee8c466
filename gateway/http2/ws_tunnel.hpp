// WebSocket over HTTP/2 (RFC 8441) without a second WebSocket driver: the
// tunnel starts the ordinary websocket::Session (gateway/websocket) on one
// end of a socketpair and moves bytes between the other end and the h2
// stream. The session keeps all of its logic (handshake held for the app,
// frame codec, credit, keepalive, close codes, timers); the tunnel only
// rewrites the response head it writes: 101 becomes 200 (minus Upgrade,
// Connection and Sec-WebSocket-Accept), a denial keeps its status, headers
// and body. Costs one local copy per byte and two descriptors per
// WebSocket, as HTTP/1 over TLS does (gateway/tls/tls_pump).
//
// Ends: the session closing its socket is END_STREAM after the last bytes;
// the client's END_STREAM is a half-close for the session; RST_STREAM or the
// connection going away closes the socketpair, which the session reports to
// the app as a lost connection (1006).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "gateway/http_settings.hpp"
#include "workers/scope_request.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway::http2 {

// The h2 stream side of a tunnel.
class TunnelOwner {
 public:
  virtual ~TunnelOwner() = default;
  // The session answered the handshake: 200 (accepted) or the denial status.
  virtual void tunnel_head(std::uint16_t status, std::span<const workers::HeaderView> headers) = 0;
  // Bytes for DATA frames.
  virtual void tunnel_bytes(std::string_view bytes) = 0;
  // The session closed its end: no more bytes (`answered` false: before any head).
  virtual void tunnel_ended(bool answered) = 0;
  // `n` client bytes reached the session: reopen that much window.
  virtual void tunnel_consumed(std::size_t n) = 0;
  // Bytes handed over by tunnel_bytes and not yet in DATA frames.
  virtual std::size_t tunnel_backlog() const = 0;
};

class WsTunnel {
 public:
  // Opens the websocket scope through `opener` (by starting the session).
  // Null when no socketpair could be made.
  static std::shared_ptr<WsTunnel> start(boost::asio::any_io_executor executor, TunnelOwner& owner,
                                         const HttpSettings& settings, workers::ScopeOpener& opener,
                                         const workers::ScopeRequest& request);
  virtual ~WsTunnel() = default;

  virtual void client_bytes(std::string_view bytes) = 0;
  // END_STREAM from the client.
  virtual void client_end() = 0;
  // The owner pulled bytes into DATA frames: read on if the backlog allows.
  virtual void resume() = 0;
  // Graceful stop: the session sends Close 1001.
  virtual void server_close() = 0;
  // The stream is gone: close the socketpair; no more owner calls.
  // `server_stop`: the gateway is stopping hard (the app hears
  // server_shutdown rather than a lost client).
  virtual void close(bool server_stop = false) = 0;
};

}  // namespace pagi::gateway::http2
