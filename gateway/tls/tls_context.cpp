#include "gateway/tls/tls_context.hpp"

#include <stdexcept>

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace pagi::gateway::tls {
namespace {

// ALPN wire format: length-prefixed names, in our preference order.
std::string alpn_wire(const TlsSettings& s) {
  std::string out;
  for (const auto& p : s.alpn) {
    out.push_back(static_cast<char>(p.size()));
    out += p;
  }
  return out;
}

// Server preference: the first of ours the client also offers. No common
// protocol: continue without ALPN (HTTP/1.1), as browsers expect.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned>(ours->size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// verify_client optional: accept any certificate (or none); the result is
// reported in the scope's client_cert_error instead of failing the handshake.
int accept_any(int, X509_STORE_CTX*) { return 1; }

// Loads cert+key into `ctx`, checking they match. Throws.
void load_identity(SSL_CTX* ctx, const TlsSettings& s) {
  if (SSL_CTX_use_certificate_chain_file(ctx, s.cert.c_str()) != 1)
    throw std::runtime_error("tls cert " + s.cert + ": " + openssl_errors());
  if (SSL_CTX_use_PrivateKey_file(ctx, s.key.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error("tls key " + s.key + ": " + openssl_errors());
  if (SSL_CTX_check_private_key(ctx) != 1)
    throw std::runtime_error("tls key " + s.key + " does not match cert " + s.cert + ": " + openssl_errors());
}

// A fresh trust store each time, so a reload also drops CAs taken out of
// the file (loading into the old store would only add).
void load_client_ca(SSL_CTX* ctx, const TlsSettings& s) {
  if (s.client_ca.empty()) return;
  X509_STORE* store = X509_STORE_new();
  if (!store || X509_STORE_load_file(store, s.client_ca.c_str()) != 1) {
    X509_STORE_free(store);
    throw std::runtime_error("tls client_ca " + s.client_ca + ": " + openssl_errors());
  }
  SSL_CTX_set_cert_store(ctx, store);  // frees the old one
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.client_ca.c_str());
  if (!names) throw std::runtime_error("tls client_ca " + s.client_ca + ": no certificates: " + openssl_errors());
  SSL_CTX_set_client_CA_list(ctx, names);
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

TlsContext::TlsContext(TlsSettings settings)
    : settings_(std::move(settings)),
      context_(std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server)) {
  SSL_CTX* ctx = context_->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(ctx, settings_.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  // Memory per idle connection matters more than one allocation per read.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (!settings_.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, settings_.ciphers.c_str()) != 1)
    throw std::runtime_error("tls ciphers \"" + settings_.ciphers + "\": " + openssl_errors());
  load_identity(ctx, settings_);
  load_client_ca(ctx, settings_);
  switch (settings_.verify_client) {
    case VerifyClient::none: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr); break;
    case VerifyClient::optional: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any); break;
    case VerifyClient::required:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  // Session resumption: the server-side cache and stateless tickets (on by
  // default; keys rotate with the context). A session id context is required
  // once client certificates are verified.
  static const unsigned char sid[] = "pagi-gateway";
  SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  // Asio keeps its own data in the SSL_CTX's app data: ours stays a member.
  alpn_wire_ = alpn_wire(settings_);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &alpn_wire_);
}

TlsContext::~TlsContext() = default;

boost::asio::ssl::context& TlsContext::context() { return *context_; }

std::string TlsContext::reload() {
  ERR_clear_error();
  // Validate on a scratch context first so a bad file never half-applies.
  SSL_CTX* scratch = SSL_CTX_new(TLS_server_method());
  if (!scratch) return "tls reload: " + openssl_errors();
  try {
    load_identity(scratch, settings_);
    load_client_ca(scratch, settings_);
  } catch (const std::exception& e) {
    SSL_CTX_free(scratch);
    return e.what();
  }
  SSL_CTX_free(scratch);
  try {
    load_identity(context_->native_handle(), settings_);
    load_client_ca(context_->native_handle(), settings_);
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

std::string check_tls_files(const TlsSettings& settings) {
  try {
    TlsContext context(settings);
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace pagi::gateway::tls
