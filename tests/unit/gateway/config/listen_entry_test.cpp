// The map form of listen entries ({address, tls, h2c}) through the whole
// loader: TLS settings, relative certificate paths, and the errors.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/config/load_config.hpp"

namespace pagi::gateway {
namespace {
namespace fs = std::filesystem;

class ListenEntry : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pagi-listen-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    for (auto name : {"cert.pem", "key.pem", "ca.pem"}) std::ofstream(dir_ / name) << "x";
  }
  void TearDown() override { fs::remove_all(dir_); }
  GatewayConfig parse(const std::string& listen) {
    return parse_config_text("listen:\n" + listen, "gateway.yaml", dir_);
  }
  std::string error(const std::string& listen) {
    try {
      parse(listen);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  }
  fs::path dir_;
};

TEST_F(ListenEntry, StringsStayPlainCleartextListeners) {
  const auto c = parse("  - 127.0.0.1:8080\n");
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_FALSE(c.listen[0].tls);
  EXPECT_TRUE(c.listen[0].h2c);
}

TEST_F(ListenEntry, TlsMapWithRelativePaths) {
  const auto c = parse(
      "  - 127.0.0.1:8080\n"
      "  - address: 127.0.0.1:8443\n"
      "    tls:\n"
      "      cert: cert.pem\n"
      "      key: key.pem\n"
      "      client_ca: ca.pem\n"
      "      verify_client: required\n"
      "      min_version: \"1.3\"\n"
      "      alpn: [http/1.1]\n");
  ASSERT_EQ(c.listen.size(), 2u);
  const auto& l = c.listen[1];
  EXPECT_EQ(l.port, 8443);
  ASSERT_TRUE(l.tls);
  EXPECT_EQ(l.tls->cert, (dir_ / "cert.pem").string());
  EXPECT_EQ(l.tls->client_ca, (dir_ / "ca.pem").string());
  EXPECT_EQ(l.tls->verify_client, tls::VerifyClient::required);
  EXPECT_EQ(l.tls->min_version, "1.3");
  EXPECT_EQ(l.tls->alpn, std::vector<std::string>{"http/1.1"});
}

TEST_F(ListenEntry, H2cCanBeTurnedOff) {
  const auto c = parse("  - {address: 127.0.0.1:8080, h2c: false}\n");
  EXPECT_FALSE(c.listen[0].h2c);
  EXPECT_FALSE(c.listen[0].tls);
}

TEST_F(ListenEntry, H2cOnly) {
  const auto c = parse("  - {address: 127.0.0.1:8080, h2c: only}\n");
  EXPECT_TRUE(c.listen[0].h2c);
  EXPECT_TRUE(c.listen[0].h2c_only);
  const auto d = parse("  - {address: 127.0.0.1:8080, h2c: true}\n  - 127.0.0.1:8081\n");
  EXPECT_FALSE(d.listen[0].h2c_only);
  EXPECT_FALSE(d.listen[1].h2c_only);
}

TEST_F(ListenEntry, H2cErrorsNameTheFileAndLine) {
  const auto bad_word = error("  - 127.0.0.1:0\n  - {address: 127.0.0.1:8080, h2c: http3}\n");
  EXPECT_NE(bad_word.find("h2c: expected true, false or only, got \"http3\""), std::string::npos) << bad_word;
  EXPECT_NE(bad_word.find("gateway.yaml:"), std::string::npos) << bad_word;
  EXPECT_NE(error("  - {address: 127.0.0.1:8080, h2c: [only]}\n").find("h2c: expected"), std::string::npos);
  const auto on_tls = error("  - {address: 127.0.0.1:1, tls: {cert: cert.pem, key: key.pem}, h2c: only}\n");
  EXPECT_NE(on_tls.find("h2c: only is for cleartext listeners"), std::string::npos) << on_tls;
}

TEST_F(ListenEntry, TwoEphemeralPortsAreAllowed) {
  EXPECT_EQ(parse("  - 127.0.0.1:0\n  - {address: 127.0.0.1:0, h2c: false}\n").listen.size(), 2u);
  EXPECT_NE(error("  - 127.0.0.1:80\n  - 127.0.0.1:80\n").find("listed twice"), std::string::npos);
}

TEST_F(ListenEntry, Errors) {
  EXPECT_NE(error("  - {tls: {cert: cert.pem, key: key.pem}}\n").find("address is required"), std::string::npos);
  EXPECT_NE(error("  - {address: 127.0.0.1:1, tls: {cert: cert.pem}}\n").find("cert and key are required"),
            std::string::npos);
  EXPECT_NE(error("  - {address: 127.0.0.1:1, tls: {cert: nope.pem, key: key.pem}}\n").find("not a readable file"),
            std::string::npos);
  EXPECT_NE(error("  - {address: 127.0.0.1:1, tls: {cert: cert.pem, key: key.pem, verify_client: maybe}}\n")
                .find("verify_client"),
            std::string::npos);
  EXPECT_NE(error("  - {address: 127.0.0.1:1, tls: {cert: cert.pem, key: key.pem, verify_client: optional}}\n")
                .find("needs client_ca"),
            std::string::npos);
  EXPECT_NE(error("  - {address: 127.0.0.1:1, tls: {cert: cert.pem, key: key.pem, min_version: \"1.1\"}}\n")
                .find("min_version"),
            std::string::npos);
  EXPECT_NE(error("  - {address: 127.0.0.1:1, colour: red}\n").find("unknown key"), std::string::npos);
  EXPECT_NE(error("  - {address: unix:/tmp/x.sock, tls: {cert: cert.pem, key: key.pem}}\n").find("unix"),
            std::string::npos);
  // The location of the entry is named.
  EXPECT_NE(error("  - {address: 127.0.0.1:1, colour: red}\n").find("gateway.yaml:"), std::string::npos);
}

}  // namespace
}  // namespace pagi::gateway
