// One listener's TLS context: a single SSL_CTX shared by every connection of
// the listener (session cache and tickets live there), built from
// TlsSettings. Certificate reload swaps the certificate and key inside the
// same SSL_CTX: OpenSSL copies them into each SSL at SSL_new, so connections
// already established keep theirs and none is dropped.
#pragma once

#include <memory>
#include <string>

#include "gateway/tls/tls_settings.hpp"

namespace boost::asio::ssl {
class context;
}

namespace pagi::gateway::tls {

class TlsContext {
 public:
  // Setup: throws std::runtime_error naming the file and OpenSSL's reason.
  explicit TlsContext(TlsSettings settings);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& context();
  const TlsSettings& settings() const { return settings_; }

  // Re-reads cert, key and client_ca from their files. New handshakes use
  // them; established connections are untouched. On failure the old
  // certificate stays and the error is returned; "" on success.
  std::string reload();

 private:
  TlsSettings settings_;
  std::string alpn_wire_;  // ALPN list in wire format; outlives context_
  std::unique_ptr<boost::asio::ssl::context> context_;
};

// --check-config: loads cert, key (checking they match) and client_ca as a
// listener would. "" when they load, else the error naming the file.
std::string check_tls_files(const TlsSettings& settings);

// The OpenSSL error queue as one line (and cleared), for messages.
std::string openssl_errors();

}  // namespace pagi::gateway::tls
