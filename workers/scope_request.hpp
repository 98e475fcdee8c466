// What a transport hands a pool to open a scope. Protocol-neutral: an HTTP/1
// exchange, an HTTP/2 stream or a WebSocket fill the same struct. Every view
// refers to the transport's buffers and is valid only during the call that
// receives it; the pool copies what it keeps (it encodes it into a frame).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/pagi.capnp.h"

namespace pagi::workers {

struct HeaderView {
  std::string_view name;  // lower-case
  std::string_view value;
};

// The tls scope extension of a TLS connection (protocol ScopeOpen.tls),
// owned by the transport for the connection's lifetime.
struct TlsScopeInfo {
  std::uint16_t tls_version = 0;   // 0x0303 TLS 1.2, 0x0304 TLS 1.3
  std::uint16_t cipher_suite = 0;  // IANA number
  bool has_client_cert = false;
  std::string server_cert;                     // PEM
  std::vector<std::string> client_cert_chain;  // PEM, leaf first
  std::string client_cert_name;                // RFC 4514
  std::string client_cert_error;               // empty when none
};

struct ScopeRequest {
  wire::ScopeType type = wire::ScopeType::HTTP;
  std::string_view http_version;  // "1.0", "1.1", "2"
  std::string_view method;
  std::string_view scheme;  // http, https, ws, wss
  std::string_view path;    // percent-decoded
  std::string_view raw_path;
  std::string_view query_string;
  std::string_view root_path;
  std::span<const HeaderView> headers;  // cookies already folded
  std::string_view client_host;         // empty when unknown
  std::uint16_t client_port = 0;
  // The connection's TCP peer when client_* is not it (set where the edge
  // layer rewrites the client: trusted proxies, PROXY protocol); empty when
  // client_* is the peer. Apps see it as scope pagi.peer.
  std::string_view peer_host;
  std::uint16_t peer_port = 0;
  std::string_view server_host;  // address, or socket path when server_is_unix
  std::uint16_t server_port = 0;
  bool server_is_unix = false;
  std::span<const std::string_view> subprotocols;
  // The first body event travels with the opening frame when the transport
  // already has it: always for a request without a body (body "", more false).
  bool has_body = false;
  std::string_view body;
  bool more = false;
  bool expect_continue = false;
  std::uint32_t extensions = 0;  // wire::EXT_* bits
  std::string_view request_id;
  // From the route's `:name` segments: name0, value0, name1, value1, ...
  // (the app sees them as scope pagi.route params).
  std::span<const std::string_view> route_params;
  // TLS connections only (with wire::EXT_TLS in extensions); null otherwise.
  const TlsScopeInfo* tls = nullptr;
};

}  // namespace pagi::workers
