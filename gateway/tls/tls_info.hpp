// The PAGI tls scope extension of one established TLS connection, read once
// after the handshake and shared by every scope of the connection.
#pragma once

#include <openssl/types.h>

#include "workers/scope_request.hpp"

namespace pagi::gateway::tls {

workers::TlsScopeInfo describe_connection(SSL* ssl);

}  // namespace pagi::gateway::tls
