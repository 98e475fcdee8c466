#include "gateway/websocket/handshake.hpp"

#include <ctime>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace pagi::gateway::websocket {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class F>
void for_each_item(std::string_view list, F&& f) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = trim(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

bool header_has_token(std::span<const workers::HeaderView> headers, std::string_view name, std::string_view token) {
  for (const auto& h : headers)
    if (h.name == name && list_has_token(h.value, token)) return true;
  return false;
}

const workers::HeaderView* find(std::span<const workers::HeaderView> headers, std::string_view name) {
  for (const auto& h : headers)
    if (h.name == name) return &h;
  return nullptr;
}

// 16 bytes of base64: 22 alphabet characters then "==".
bool valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (std::size_t i = 0; i < 22; ++i) {
    const char c = key[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// Headers the handshake itself decides.
bool owned_by_handshake(std::string_view name) {
  for (std::string_view owned : {"upgrade", "connection", "sec-websocket-accept", "sec-websocket-protocol",
                                 "sec-websocket-extensions", "content-length", "transfer-encoding", "date"})
    if (iequals(name, owned)) return true;
  return false;
}

void append_common(std::string& out, std::string_view date, std::string_view server_header) {
  if (!date.empty()) {
    out += "Date: ";
    out += date;
    out += "\r\n";
  }
  if (!server_header.empty()) {
    out += "Server: ";
    out += server_header;
    out += "\r\n";
  }
}

std::string_view reason_of(std::uint16_t status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

}  // namespace

bool list_has_token(std::string_view list, std::string_view token) noexcept {
  bool found = false;
  for_each_item(list, [&](std::string_view item) { found = found || iequals(item, token); });
  return found;
}

UpgradeRequest check_upgrade(std::string_view method, int http_version, std::span<const workers::HeaderView> headers) {
  UpgradeRequest r;
  if (!header_has_token(headers, "upgrade", "websocket")) return r;
  // An h2c or other upgrade mentioning websocket among others still counts;
  // what follows must then be right.
  if (method != "GET" || http_version < 11 || !header_has_token(headers, "connection", "upgrade")) {
    r.verdict = UpgradeVerdict::bad_request;
    return r;
  }
  const auto* version = find(headers, "sec-websocket-version");
  if (version == nullptr || trim(version->value) != "13") {
    r.verdict = UpgradeVerdict::bad_version;
    return r;
  }
  const auto* key = find(headers, "sec-websocket-key");
  if (key == nullptr || !valid_key(trim(key->value))) {
    r.verdict = UpgradeVerdict::bad_request;
    return r;
  }
  r.verdict = UpgradeVerdict::ok;
  r.key = trim(key->value);
  return r;
}

void parse_subprotocols(std::span<const workers::HeaderView> headers, std::vector<std::string_view>& out) {
  out.clear();
  for (const auto& h : headers)
    if (h.name == "sec-websocket-protocol") for_each_item(h.value, [&](std::string_view p) { out.push_back(p); });
}

std::string accept_key(std::string_view client_key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(client_key);
  input.append(guid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

void write_accept_response(std::string& out, std::string_view client_key, std::string_view subprotocol,
                           std::span<const workers::HeaderView> headers, std::string_view date,
                           std::string_view server_header) {
  out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  out += "Sec-WebSocket-Accept: ";
  out += accept_key(client_key);
  out += "\r\n";
  if (!subprotocol.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    out += subprotocol;
    out += "\r\n";
  }
  append_common(out, date, server_header);
  for (const auto& h : headers) {
    if (owned_by_handshake(h.name) || (!server_header.empty() && iequals(h.name, "server"))) continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  out += "\r\n";
}

void write_final_response(std::string& out, std::uint16_t status, std::span<const workers::HeaderView> headers,
                          std::string_view body, std::string_view date, std::string_view server_header) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_of(status);
  out += "\r\n";
  append_common(out, date, server_header);
  for (const auto& h : headers) {
    if (owned_by_handshake(h.name) || (!server_header.empty() && iequals(h.name, "server"))) continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\nConnection: close\r\n\r\n";
  out.append(body);
}

std::string http_date(long long t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

}  // namespace pagi::gateway::websocket
