// HTTP/1.1 over TLS without a second HTTP/1 driver: the pump moves bytes
// between an established TLS stream and one end of a socketpair, whose other
// end the ordinary HTTP/1 connection drives (with sendfile, WebSocket
// handover and every timeout unchanged). End of input is passed on as a
// half-close each way; the app side closing ends the TLS session with
// close_notify. Costs one extra local copy per byte; HTTP/2 over TLS does not
// use it.
#pragma once

#include <memory>

#include "gateway/http_settings.hpp"
#include "gateway/tls/tls_stream.hpp"

namespace pagi::gateway::tls {

// Starts pumping; the pump lives as long as its pending operations.
void start_pump(std::unique_ptr<TlsStream> tls, http1::StreamSocket inner, const HttpSettings& settings);

}  // namespace pagi::gateway::tls
