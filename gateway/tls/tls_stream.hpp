// The TLS stream type shared by gateway/tls/ and gateway/http2/, declared
// without pulling Asio's SSL headers into every includer.
#pragma once

#include "gateway/http1/connection.hpp"

namespace boost::asio::ssl {
template <typename Stream>
class stream;
}

namespace pagi::gateway::tls {

using TlsStream = boost::asio::ssl::stream<http1::StreamSocket>;

}  // namespace pagi::gateway::tls
