// TLS listener context: certificates from a test CA made at test time with
// the openssl CLI (no committed keys), handshakes over a socketpair with an
// Asio client: ALPN, client certificates (optional/required) in the tls
// scope data, session resumption, certificate reload.
#include "gateway/tls/tls_context.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "gateway/tls/tls_info.hpp"
#include "gateway/tls/tls_stream.hpp"

namespace pagi::gateway::tls {
namespace {
namespace asio = boost::asio;
namespace fs = std::filesystem;
using Socket = http1::StreamSocket;

int sh(const std::string& cmd) { return std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()); }

// One CA, a server certificate for localhost and a client certificate.
class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/pagi-tls-XXXXXX";
    dir = ::mkdtemp(tmpl);
    const std::string d = dir.string();
    ok = sh("cd " + d +
            " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj '/CN=Test CA'") ==
             0 &&
         issue("server", "/CN=localhost") && issue("client", "/O=Example/CN=alice") && issue("server2", "/CN=second");
  }
  ~TestPki() { fs::remove_all(dir); }
  bool issue(const std::string& name, const std::string& subject) {
    const std::string d = dir.string();
    return sh("cd " + d + " && openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name +
              ".csr -subj '" + subject + "' && openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key " +
              "-CAcreateserial -out " + name + ".pem -days 1") == 0;
  }
  std::string path(const std::string& f) const { return (dir / f).string(); }
  TlsSettings settings(VerifyClient v = VerifyClient::none) const {
    TlsSettings s;
    s.cert = path("server.pem");
    s.key = path("server.key");
    if (v != VerifyClient::none) s.client_ca = path("ca.pem");
    s.verify_client = v;
    return s;
  }
  fs::path dir;
  bool ok = false;
};

struct Outcome {
  boost::system::error_code server_ec, client_ec;
  std::string alpn;
  workers::TlsScopeInfo info;
  SSL_SESSION* session = nullptr;  // the client's, for resumption
  bool reused = false;
};

Outcome handshake(TlsContext& server_ctx, asio::ssl::context& client_ctx, SSL_SESSION* resume = nullptr) {
  asio::io_context io;
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  const asio::generic::stream_protocol local(AF_UNIX, 0);
  TlsStream server(Socket(io, local, fds[0]), server_ctx.context());
  asio::ssl::stream<Socket> client(Socket(io, local, fds[1]), client_ctx);
  if (resume) SSL_set_session(client.native_handle(), resume);
  Outcome out;
  server.async_handshake(asio::ssl::stream_base::server, [&](boost::system::error_code ec) {
    out.server_ec = ec;
    // A failed server handshake must not leave the client waiting.
    if (ec) server.next_layer().close();
  });
  client.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code ec) { out.client_ec = ec; });
  io.run();
  if (!out.server_ec) {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(server.native_handle(), &p, &n);
    out.alpn.assign(reinterpret_cast<const char*>(p), n);
    out.info = describe_connection(server.native_handle());
  }
  if (!out.client_ec) {
    out.session = SSL_get1_session(client.native_handle());
    out.reused = SSL_session_reused(client.native_handle());
  }
  // Freed without a shutdown, OpenSSL would mark the session not resumable.
  SSL_set_shutdown(client.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_set_shutdown(server.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  return out;
}

class TlsContextTest : public ::testing::Test {
 protected:
  // Key generation is slow: one PKI per test (each may rewrite its files).
  void SetUp() override {
    if (!pki_.ok) GTEST_SKIP() << "openssl CLI unavailable";
  }
  asio::ssl::context client_ctx(bool with_cert, std::vector<std::string> alpn = {"h2", "http/1.1"}) {
    asio::ssl::context c(asio::ssl::context::tls_client);
    c.load_verify_file(pki_.path("ca.pem"));
    c.set_verify_mode(asio::ssl::verify_peer);
    if (with_cert) {
      c.use_certificate_chain_file(pki_.path("client.pem"));
      c.use_private_key_file(pki_.path("client.key"), asio::ssl::context::pem);
    }
    std::string wire;
    for (const auto& p : alpn) wire += static_cast<char>(p.size()) + p;
    if (!wire.empty())
      SSL_CTX_set_alpn_protos(c.native_handle(), reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned>(wire.size()));
    return c;
  }
  TestPki pki_;
};

TEST_F(TlsContextTest, BadFilesThrowAtSetup) {
  auto s = pki_.settings();
  s.key = pki_.path("client.key");  // does not match the server cert
  EXPECT_THROW(TlsContext{s}, std::runtime_error);
  s = pki_.settings();
  s.cert = pki_.path("missing.pem");
  EXPECT_THROW(TlsContext{s}, std::runtime_error);
}

TEST_F(TlsContextTest, AlpnPrefersH2AndFallsBackToHttp11) {
  TlsContext ctx(pki_.settings());
  auto client = client_ctx(false);
  auto out = handshake(ctx, client);
  ASSERT_FALSE(out.server_ec) << out.server_ec.message();
  EXPECT_EQ(out.alpn, "h2");
  auto http1_only = client_ctx(false, {"http/1.1"});
  EXPECT_EQ(handshake(ctx, http1_only).alpn, "http/1.1");
  auto no_alpn = client_ctx(false, {});
  auto plain = handshake(ctx, no_alpn);
  EXPECT_FALSE(plain.server_ec);
  EXPECT_EQ(plain.alpn, "");
}

TEST_F(TlsContextTest, ScopeDataWithoutClientCertificate) {
  TlsContext ctx(pki_.settings());
  auto client = client_ctx(false);
  auto out = handshake(ctx, client);
  ASSERT_FALSE(out.server_ec);
  EXPECT_TRUE(out.info.tls_version == TLS1_3_VERSION || out.info.tls_version == TLS1_2_VERSION);
  EXPECT_NE(out.info.cipher_suite, 0);
  EXPECT_EQ(out.info.server_cert.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_FALSE(out.info.has_client_cert);
  EXPECT_TRUE(out.info.client_cert_chain.empty());
  EXPECT_EQ(out.info.client_cert_name, "");
}

TEST_F(TlsContextTest, OptionalClientCertificateIsReported) {
  TlsContext ctx(pki_.settings(VerifyClient::optional));
  auto with = client_ctx(true);
  auto out = handshake(ctx, with);
  ASSERT_FALSE(out.server_ec) << out.server_ec.message();
  EXPECT_TRUE(out.info.has_client_cert);
  // Leaf first; OpenSSL clients may add the CA (auto-chain).
  ASSERT_GE(out.info.client_cert_chain.size(), 1u);
  std::ifstream leaf(pki_.path("client.pem"));
  const std::string leaf_pem((std::istreambuf_iterator<char>(leaf)), std::istreambuf_iterator<char>());
  EXPECT_EQ(out.info.client_cert_chain[0], leaf_pem);
  EXPECT_EQ(out.info.client_cert_name, "CN=alice,O=Example");
  EXPECT_EQ(out.info.client_cert_error, "");
  auto without = client_ctx(false);
  auto anon = handshake(ctx, without);
  EXPECT_FALSE(anon.server_ec);
  EXPECT_FALSE(anon.info.has_client_cert);
}

TEST_F(TlsContextTest, OptionalUntrustedClientCertificateKeepsTheConnectionWithAnError) {
  // A self-signed client certificate the CA did not issue.
  ASSERT_EQ(
      sh("cd " + pki_.dir.string() +
         " && openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 1 -subj '/CN=rogue'"),
      0);
  TlsContext ctx(pki_.settings(VerifyClient::optional));
  asio::ssl::context c(asio::ssl::context::tls_client);
  c.load_verify_file(pki_.path("ca.pem"));
  c.use_certificate_chain_file(pki_.path("rogue.pem"));
  c.use_private_key_file(pki_.path("rogue.key"), asio::ssl::context::pem);
  auto out = handshake(ctx, c);
  ASSERT_FALSE(out.server_ec) << out.server_ec.message();
  EXPECT_TRUE(out.info.has_client_cert);
  EXPECT_EQ(out.info.client_cert_name, "CN=rogue");
  EXPECT_NE(out.info.client_cert_error, "");
}

TEST_F(TlsContextTest, RequiredClientCertificate) {
  TlsContext ctx(pki_.settings(VerifyClient::required));
  auto without = client_ctx(false);
  auto out = handshake(ctx, without);
  EXPECT_TRUE(out.server_ec);
  auto with = client_ctx(true);
  auto ok = handshake(ctx, with);
  EXPECT_FALSE(ok.server_ec) << ok.server_ec.message();
  EXPECT_EQ(ok.info.client_cert_name, "CN=alice,O=Example");
}

TEST_F(TlsContextTest, SessionResumption) {
  TlsContext ctx(pki_.settings());
  auto client = client_ctx(false);
  // TLS 1.2 carries the ticket inside the handshake.
  SSL_CTX_set_max_proto_version(client.native_handle(), TLS1_2_VERSION);
  auto first = handshake(ctx, client);
  ASSERT_FALSE(first.server_ec);
  ASSERT_NE(first.session, nullptr);
  EXPECT_FALSE(first.reused);
  auto second = handshake(ctx, client, first.session);
  EXPECT_FALSE(second.server_ec);
  EXPECT_TRUE(second.reused);
  SSL_SESSION_free(first.session);
  if (second.session) SSL_SESSION_free(second.session);
}

TEST_F(TlsContextTest, MinVersion13RefusesTls12Clients) {
  auto s = pki_.settings();
  s.min_version = "1.3";
  TlsContext ctx(s);
  auto client = client_ctx(false);
  SSL_CTX_set_max_proto_version(client.native_handle(), TLS1_2_VERSION);
  EXPECT_TRUE(handshake(ctx, client).server_ec);
}

TEST_F(TlsContextTest, ReloadSwapsTheCertificateForNewHandshakes) {
  TlsContext ctx(pki_.settings());
  auto client = client_ctx(false);
  SSL_CTX_set_verify(client.native_handle(), SSL_VERIFY_NONE, nullptr);  // server2 is not for localhost
  const auto before = handshake(ctx, client).info.server_cert;
  fs::copy_file(pki_.path("server2.pem"), pki_.path("server.pem"), fs::copy_options::overwrite_existing);
  fs::copy_file(pki_.path("server2.key"), pki_.path("server.key"), fs::copy_options::overwrite_existing);
  EXPECT_EQ(ctx.reload(), "");
  const auto after = handshake(ctx, client).info.server_cert;
  EXPECT_NE(before, after);
  // A broken file is refused and the loaded certificate stays.
  std::ofstream(pki_.path("server.pem")) << "not a certificate";
  EXPECT_NE(ctx.reload(), "");
  EXPECT_EQ(handshake(ctx, client).info.server_cert, after);
}

}  // namespace
}  // namespace pagi::gateway::tls
