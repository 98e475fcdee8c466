// The first phase of a TLS connection: the handshake, bounded by
// header_timeout. Then, by ALPN, HTTP/2 (h2) over the TLS stream, or HTTP/1.1
// through a pump (tls_pump.hpp). The handshake object stands in the
// listener's connection table until then, and hands over like a WebSocket
// upgrade does (HandoverCallback).
#pragma once

#include <functional>
#include <memory>

#include "gateway/http1/connection.hpp"
#include "gateway/tls/tls_context.hpp"
#include "gateway/tls/tls_stream.hpp"

namespace pagi::gateway::tls {

// Starts HTTP/2 over an established TLS stream (gateway/http2/); returns the
// started connection.
using StartH2 = std::function<std::shared_ptr<http1::Connection>(std::unique_ptr<TlsStream> stream,
                                                                 std::shared_ptr<const http1::ConnectionExtras> extras,
                                                                 std::function<void()> on_closed)>;

struct TlsServices {
  const HttpSettings* settings = nullptr;
  workers::ScopeOpener* opener = nullptr;
  observability::ExchangeObserver* observer = nullptr;
  std::shared_ptr<TlsContext> context;
  StartH2 start_h2;  // empty: h2 is never selected
};

std::shared_ptr<http1::Connection> make_tls_connection(http1::StreamSocket socket, const TlsServices& services,
                                                       std::function<void()> on_closed,
                                                       http1::HandoverCallback on_handover);

}  // namespace pagi::gateway::tls
