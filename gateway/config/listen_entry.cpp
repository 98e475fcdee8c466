// parse_listen_entry (declared in config.hpp): the map form of a `listen`
// entry, `{address: HOST:PORT, tls: {...}, h2c: true|false|only}`. The loader hands it
// over as flow YAML text so the listen key keeps one value type.
#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "gateway/config/config.hpp"

namespace pagi::gateway {
namespace {

[[noreturn]] void bad(const std::string& why) { throw ConfigError("listen entry: " + why); }

std::string scalar(const YAML::Node& node, const std::string& name) {
  if (!node.IsScalar()) bad(name + ": expected a string");
  return node.Scalar();
}

bool boolean(const YAML::Node& node, const std::string& name) {
  const auto text = scalar(node, name);
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  bad(name + ": expected true or false, got \"" + text + "\"");
}

// `h2c`: a boolean (HTTP/1 with or without cleartext HTTP/2) or `only`.
void h2c_mode(const YAML::Node& node, ListenAddress& address) {
  if (node.IsScalar() && node.Scalar() == "only") {
    address.h2c = true;
    address.h2c_only = true;
    return;
  }
  static const std::set<std::string> words = {"true", "false", "yes", "no", "on", "off"};
  if (!node.IsScalar() || !words.count(node.Scalar()))
    bad("h2c: expected true, false or only, got \"" + (node.IsScalar() ? node.Scalar() : std::string("a collection")) +
        "\"");
  address.h2c = boolean(node, "h2c");
  address.h2c_only = false;
}

std::string file_path(const YAML::Node& node, const std::string& name, const std::string& base_dir) {
  std::filesystem::path p(scalar(node, name));
  if (p.empty()) bad(name + ": empty path");
  if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) bad(name + ": \"" + p.string() + "\" is not a readable file");
  return p.lexically_normal().string();
}

tls::TlsSettings parse_tls(const YAML::Node& node, const std::string& base_dir) {
  if (!node.IsMap()) bad("tls: expected a map");
  tls::TlsSettings s;
  static const std::set<std::string> known = {"cert",        "key",     "client_ca", "verify_client",
                                              "min_version", "ciphers", "alpn"};
  for (auto it = node.begin(); it != node.end(); ++it) {
    const auto name = it->first.Scalar();
    if (!known.count(name)) bad("tls: unknown key \"" + name + "\"");
    const YAML::Node v = it->second;
    if (name == "cert")
      s.cert = file_path(v, "tls.cert", base_dir);
    else if (name == "key")
      s.key = file_path(v, "tls.key", base_dir);
    else if (name == "client_ca")
      s.client_ca = file_path(v, "tls.client_ca", base_dir);
    else if (name == "verify_client") {
      const auto word = scalar(v, "tls.verify_client");
      if (word == "none")
        s.verify_client = tls::VerifyClient::none;
      else if (word == "optional")
        s.verify_client = tls::VerifyClient::optional;
      else if (word == "required")
        s.verify_client = tls::VerifyClient::required;
      else
        bad("tls.verify_client: expected none, optional or required, got \"" + word + "\"");
    } else if (name == "min_version") {
      s.min_version = scalar(v, "tls.min_version");
      if (s.min_version != "1.2" && s.min_version != "1.3")
        bad("tls.min_version: expected \"1.2\" or \"1.3\", got \"" + s.min_version + "\"");
    } else if (name == "ciphers") {
      s.ciphers = scalar(v, "tls.ciphers");
    } else if (name == "alpn") {
      s.alpn.clear();
      if (v.IsScalar())
        s.alpn.push_back(v.Scalar());
      else if (v.IsSequence())
        for (const auto& item : v) s.alpn.push_back(scalar(item, "tls.alpn"));
      else
        bad("tls.alpn: expected a list of protocols");
      for (const auto& p : s.alpn)
        if (p != "h2" && p != "http/1.1") bad("tls.alpn: \"" + p + "\" is not h2 or http/1.1");
    }
  }
  if (s.cert.empty() || s.key.empty()) bad("tls: cert and key are required");
  if (s.verify_client != tls::VerifyClient::none && s.client_ca.empty()) bad("tls: verify_client needs client_ca");
  return s;
}

}  // namespace

ListenAddress parse_listen_entry(const std::string& text, const std::string& base_dir) {
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    bad(std::string("not valid YAML: ") + e.what());
  }
  if (!node.IsMap()) bad("expected a map with address");
  if (!node["address"]) bad("address is required");
  ListenAddress address = parse_listen_address(scalar(node["address"], "address"));
  for (auto it = node.begin(); it != node.end(); ++it) {
    const auto name = it->first.Scalar();
    if (name == "address") continue;
    if (name == "tls")
      address.tls = parse_tls(it->second, base_dir);
    else if (name == "h2c")
      h2c_mode(it->second, address);
    else
      bad("unknown key \"" + name + "\" (address, tls, h2c)");
  }
  if (address.tls && address.kind == ListenAddress::Kind::unix_socket) bad("tls on a unix socket is not supported");
  // ALPN is what picks the protocol on TLS: one knob there, not two.
  if (address.tls && address.h2c_only)
    bad("h2c: only is for cleartext listeners; on TLS the protocol is chosen by ALPN (tls.alpn)");
  address.entry = text;
  return address;
}

}  // namespace pagi::gateway
