#include "gateway/tls/tls_info.hpp"

#include <memory>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace pagi::gateway::tls {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string pem_of(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  return bio_text(bio.get());
}

// RFC 4514 (the successor of RFC 2253): most specific RDN first.
std::string rfc4514_name(X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  return bio_text(bio.get());
}

}  // namespace

workers::TlsScopeInfo describe_connection(SSL* ssl) {
  workers::TlsScopeInfo info;
  info.tls_version = static_cast<std::uint16_t>(SSL_version(ssl));
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) info.cipher_suite = SSL_CIPHER_get_protocol_id(cipher);
  if (X509* server = SSL_get_certificate(ssl)) info.server_cert = pem_of(server);
  if (X509* leaf = SSL_get1_peer_certificate(ssl)) {
    info.has_client_cert = true;
    info.client_cert_chain.push_back(pem_of(leaf));
    info.client_cert_name = rfc4514_name(X509_get_subject_name(leaf));
    // On the server side the peer chain leaves out the leaf.
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        X509* c = sk_X509_value(chain, i);
        if (X509_cmp(c, leaf) != 0) info.client_cert_chain.push_back(pem_of(c));
      }
    }
    const long verdict = SSL_get_verify_result(ssl);
    if (verdict != X509_V_OK) info.client_cert_error = X509_verify_cert_error_string(verdict);
    X509_free(leaf);
  }
  return info;
}

}  // namespace pagi::gateway::tls
