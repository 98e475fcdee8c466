// The HTTP/1 connection driver: one per accepted socket (TCP or Unix stream),
// driving a RequestCodec over it and one Exchange per request, in order.
//
// Lifetime (STYLE.md 6): the connection is a shared_ptr kept alive only by
// its pending operations (read, write, timer, posted work); the listener
// holds a weak_ptr. One steady_timer serves every timeout; each phase sets
// its own deadline and the timer is re-armed on the nearest one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/generic/stream_protocol.hpp>

#include "gateway/http1/scope_builder.hpp"
#include "gateway/http_settings.hpp"
#include "workers/upstream.hpp"

namespace pagi::gateway::observability {
class ExchangeObserver;
}

namespace pagi::gateway::http1 {

enum class ConnectionState : std::uint8_t {
  idle,          // between requests (or fresh): nothing of a request buffered
  reading_head,  // part of a request head is buffered
  exchange,      // a request is being served: body, app, response
  closing,       // the last bytes are queued; then shutdown and drain
  closed,        // socket closed; waiting for pending handlers to unwind
};

std::string_view to_string(ConnectionState s) noexcept;
bool is_legal_transition(ConnectionState from, ConnectionState to) noexcept;

class Connection {
 public:
  virtual ~Connection() = default;
  virtual void start() = 0;
  // Stop after the current response (close now if idle).
  virtual void shutdown_gracefully() = 0;
  // Close the socket now; an exchange in flight gets server_shutdown.
  virtual void close_now() = 0;
  virtual ConnectionState state() const = 0;
  // HTTP/1: complete requests read ahead of the one being answered
  // (at most http.max_pipelined); 0 for other protocols.
  virtual std::size_t pipelined_requests() const { return 0; }
};

using StreamSocket = boost::asio::generic::stream_protocol::socket;

// `opener` must outlive the connection; `on_closed` runs once, when the
// socket is closed (by whoever owns it then). A WebSocket upgrade hands the
// socket to a websocket session and ends this connection (STYLE.md 3);
// `on_handover` then gets the session's handle, so whoever tracks
// connections (the listener) can reach it for shutdown. `observer` (access
// log, metrics) hears of every finished exchange; null = nobody listens.
using HandoverCallback = std::function<void(std::weak_ptr<Connection>)>;

// What the listener knows about a connection beyond its socket (gateway/tls/).
struct ConnectionExtras {
  // Behind a TLS terminator the socket is the terminator's end: the real
  // peer addresses, and the tls scope data (scheme https/wss, EXT_TLS).
  std::optional<PeerInfo> peer;
  std::shared_ptr<const workers::TlsScopeInfo> tls;
  // Upgrade: h2c (gateway/http2/): takes the socket over after a request
  // without body that asked for it (the 101 is written by the new side).
  // `rest`: bytes read past the request head; `request`: its scope (views
  // valid during the call); `http2_settings`: the header's value. Empty =
  // h2c upgrades are not offered and the request is served as HTTP/1.1.
  std::function<std::shared_ptr<Connection>(StreamSocket socket, std::string rest, const workers::ScopeRequest& request,
                                            std::string_view http2_settings, std::function<void()> on_closed)>
      h2c_upgrade;
};

std::shared_ptr<Connection> make_connection(StreamSocket socket, const HttpSettings& settings,
                                            workers::ScopeOpener& opener, std::function<void()> on_closed,
                                            HandoverCallback on_handover = {},
                                            observability::ExchangeObserver* observer = nullptr,
                                            std::shared_ptr<const ConnectionExtras> extras = nullptr);

}  // namespace pagi::gateway::http1
