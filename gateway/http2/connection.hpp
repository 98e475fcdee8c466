// The HTTP/2 connection driver: one per connection that speaks h2 (ALPN on
// TLS) or h2c (prior knowledge, Upgrade: h2c). It feeds socket bytes to the
// Session, writes what the Session produces, and owns one Stream per request.
//
// State (STYLE.md 2): open -> draining (GOAWAY sent, streams finishing) ->
// closed. One steady_timer serves the idle deadline (no open stream for
// keepalive_timeout), the write deadline (write_timeout without progress) and
// the stream stall sweep (h2_stream_timeout), re-armed on the nearest.
//
// Lifetime: a read is pending for as long as the connection is open, so the
// pending operations own it; the listener holds a weak_ptr; the pool holds
// each Stream by weak_ptr.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/http1/connection.hpp"
#include "gateway/tls/tls_stream.hpp"

namespace pagi::gateway::http2 {

enum class ConnectionState : std::uint8_t {
  open,      // serving streams
  draining,  // GOAWAY sent: open streams finish, no new ones
  closed,    // socket closed
};

std::string_view to_string(ConnectionState s) noexcept;
bool is_legal_transition(ConnectionState from, ConnectionState to) noexcept;

// HTTP/2 over an established TLS stream (ALPN h2).
std::shared_ptr<http1::Connection> start_tls_connection(std::unique_ptr<tls::TlsStream> stream,
                                                        const HttpSettings& settings, workers::ScopeOpener& opener,
                                                        std::shared_ptr<const http1::ConnectionExtras> extras,
                                                        std::function<void()> on_closed,
                                                        observability::ExchangeObserver* observer);

// h2c with prior knowledge: `received` holds bytes already read (starting
// with the client preface, possibly empty when it is still in the socket).
std::shared_ptr<http1::Connection> start_cleartext_connection(http1::StreamSocket socket, std::string received,
                                                              const HttpSettings& settings,
                                                              workers::ScopeOpener& opener,
                                                              std::function<void()> on_closed,
                                                              observability::ExchangeObserver* observer);

// Upgrade: h2c from an HTTP/1.1 request without body (http1::ConnectionExtras
// ::h2c_upgrade): writes the 101, serves that request as stream 1, then
// reads the client preface from `rest` and the socket. Null after a bad
// HTTP2-Settings value (the socket is closed).
std::shared_ptr<http1::Connection> start_upgraded_connection(http1::StreamSocket socket, std::string rest,
                                                             const workers::ScopeRequest& request,
                                                             std::string_view http2_settings,
                                                             const HttpSettings& settings, workers::ScopeOpener& opener,
                                                             std::function<void()> on_closed,
                                                             observability::ExchangeObserver* observer = nullptr);

// A cleartext listener's connection: looks at the first bytes (without
// consuming them) and starts HTTP/2 on the client preface, HTTP/1 otherwise.
// `http2_only` (`h2c: only`): every connection that sends a byte is HTTP/2,
// so a wrong preface is a connection error (GOAWAY PROTOCOL_ERROR).
std::shared_ptr<http1::Connection> make_cleartext_connection(http1::StreamSocket socket, const HttpSettings& settings,
                                                             workers::ScopeOpener& opener,
                                                             std::function<void()> on_closed,
                                                             http1::HandoverCallback on_handover,
                                                             observability::ExchangeObserver* observer,
                                                             bool http2_only = false);

}  // namespace pagi::gateway::http2
