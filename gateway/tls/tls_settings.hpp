// TLS settings of one listener: the `tls:` map of a `listen` entry
// (docs/configuration.md "TLS listeners"). Plain data; gateway/tls/
// turns it into one shared SSL_CTX per listener.
#pragma once

#include <string>
#include <vector>

namespace pagi::gateway::tls {

enum class VerifyClient {
  none,      // no certificate is asked for
  optional,  // asked for; a missing or failing one is reported in the scope
  required,  // the handshake fails without a valid one
};

struct TlsSettings {
  // Certificate chain (PEM, leaf first) and its private key (PEM).
  std::string cert;
  std::string key;
  // CA bundle (PEM) client certificates are verified against.
  std::string client_ca;
  VerifyClient verify_client = VerifyClient::none;
  // Oldest protocol accepted: "1.2" or "1.3".
  std::string min_version = "1.2";
  // OpenSSL cipher list for TLS 1.2; empty = OpenSSL's default.
  std::string ciphers;
  // ALPN protocols offered, in preference order ("h2", "http/1.1").
  std::vector<std::string> alpn = {"h2", "http/1.1"};
};

}  // namespace pagi::gateway::tls
