// parse_listen_address and ListenAddress::text (declared in config.hpp).
#include <charconv>

#include <arpa/inet.h>
#include <sys/un.h>

#include "gateway/config/config.hpp"

namespace pagi::gateway {
namespace {

// sun_path holds the path and its terminating NUL.
constexpr std::size_t max_unix_path = sizeof(sockaddr_un::sun_path) - 1;

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw ConfigError("bad listen address \"" + text + "\": " + why);
}

std::uint16_t parse_port(const std::string& text, std::string_view port) {
  if (port.empty()) bad(text, "missing port after ':'");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value > 65535) {
    bad(text, "port must be a number from 0 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

bool is_ipv4(const std::string& host) {
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

}  // namespace

ListenAddress parse_listen_address(const std::string& text) {
  ListenAddress address;
  if (text.rfind("unix:", 0) == 0) {
    address.kind = ListenAddress::Kind::unix_socket;
    address.host.clear();
    address.port = 0;
    address.path = text.substr(5);
    if (address.path.empty()) bad(text, "missing path after \"unix:\"");
    if (address.path.size() > max_unix_path) {
      bad(text, "a unix socket path is at most " + std::to_string(max_unix_path) + " bytes");
    }
    return address;
  }
  std::string_view rest(text);
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) bad(text, "missing ']' after an IPv6 address");
    address.host = std::string(rest.substr(1, close - 1));
    if (!is_ipv6(address.host)) bad(text, "\"" + address.host + "\" is not an IPv6 address");
    rest.remove_prefix(close + 1);
    if (rest.empty() || rest.front() != ':') bad(text, "expected \":port\" after \"]\"");
    address.port = parse_port(text, rest.substr(1));
    return address;
  }
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    std::string why = "expected host:port, [ipv6]:port or unix:/path";
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
      why += " (did you mean 127.0.0.1:" + text + "?)";
    }
    bad(text, why);
  }
  std::string host(rest.substr(0, colon));
  if (host.find(':') != std::string::npos) bad(text, "an IPv6 address goes in brackets, e.g. [::1]:8080");
  // ":8080" and "*:8080" mean every IPv4 interface.
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host != "localhost" && !is_ipv4(host)) {
    bad(text, "the host must be an IPv4 address, [IPv6 address] or localhost (names are not resolved)");
  }
  address.host = host;
  address.port = parse_port(text, rest.substr(colon + 1));
  return address;
}

std::string ListenAddress::text() const {
  if (kind == Kind::unix_socket) return "unix:" + path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace pagi::gateway
