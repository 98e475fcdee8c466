// Edge policy settings (docs/edge.md): trusted proxies, access lists, rate
// limits, maintenance mode, static mounts. Filled by the YAML loader
// (edge_config_loader), which has already turned every address into a Cidr
// (a malformed one is a ConfigError with file:line), and read by the edge
// runtime (gateway/edge/). Defaults here are the documented defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gateway/edge/settings/cidr.hpp"

namespace pagi::gateway::edge {

enum class Verdict : std::uint8_t { allow, deny };
// What a denied client gets: a 403 response, or its connection closed
// without a word (checked at accept, on the socket's peer address).
enum class DenyAction : std::uint8_t { forbid, close };

struct AccessRule {
  Verdict verdict = Verdict::allow;
  Cidr prefix;
};

// `access:` (global), `listeners.<address>.access:`, `route_access.<prefix>:`.
struct AccessPolicy {
  bool configured = false;                   // false: this level has no opinion
  Verdict default_verdict = Verdict::allow;  // when no rule matches
  DenyAction action = DenyAction::forbid;
  std::vector<AccessRule> rules;  // first match wins
};

// `listeners."<listen address>":` options of one listening socket.
struct ListenerEdgeSettings {
  std::string address;  // exactly as in `listen:` (ListenAddress::text())
  // Every connection starts with a PROXY protocol v1 or v2 header; without
  // a valid one the connection is closed.
  bool proxy_protocol = false;
  AccessPolicy access;  // replaces the global `access:` for this listener
};

enum class RateKey : std::uint8_t { client, header, route };

// One entry of `rate_limits:`: a token bucket per key value.
struct RateLimitSettings {
  bool operator==(const RateLimitSettings&) const = default;
  std::string name;
  RateKey key = RateKey::client;
  std::string header;             // RateKey::header: lower-case field name
  double rate = 1;                // tokens added per second
  double burst = 1;               // bucket size (requests allowed at once)
  std::size_t max_keys = 100000;  // LRU-bounded key table
  std::string path_prefix = "/";  // applies to paths under this prefix
};

struct MaintenanceSettings {
  bool enabled = false;            // on at startup (everything)
  std::vector<std::string> pools;  // enabled: only these pools (empty = all)
  std::string file;                // while this file exists: on (global)
  double poll_interval = 1.0;      // seconds between checks of `file`
  std::uint32_t retry_after = 60;  // Retry-After on the 503
  std::vector<Cidr> bypass;        // clients served normally
  std::vector<std::string> exempt_paths = {"/healthz", "/livez", "/readyz"};
  // Switching on also closes the WebSockets and SSE streams already open
  // (close 1001) instead of leaving them alone; the admin endpoint's
  // close=1 asks for it on one switch.
  bool close_streams = false;
  std::string html_body =
      "<!DOCTYPE html><html><head><title>Maintenance</title></head>"
      "<body><h1>Down for maintenance</h1><p>Please try again shortly.</p></body></html>\n";
  std::string json_body = "{\"error\":\"maintenance\",\"message\":\"Down for maintenance\"}\n";
};

enum class SymlinkPolicy : std::uint8_t {
  deny,         // no path component below the root may be a symlink
  within_root,  // symlinks allowed if the resolved file stays under the root
  follow,       // any symlink followed (root owner is trusted)
};

// One entry of `static:`: a URL prefix served from a directory.
struct StaticMount {
  std::string prefix;  // "/assets" (no trailing '/')
  std::string root;    // absolute directory
  SymlinkPolicy symlinks = SymlinkPolicy::within_root;
  std::string index = "index.html";  // for a directory; empty = 404
  bool precompressed = true;         // serve .br/.gz siblings when accepted
  std::uint32_t max_age = 0;         // Cache-Control max-age; 0 = no header
  bool internal = false;             // only via X-Accel-Redirect, 404 to clients
};

struct EdgeSettings {
  std::vector<Cidr> trusted_proxies;
  // Most hops of X-Forwarded-For / Forwarded walked; a longer chain is cut.
  std::size_t max_forwarded_hops = 32;
  AccessPolicy access;
  std::map<std::string, AccessPolicy> route_access;  // by route prefix as written
  std::vector<ListenerEdgeSettings> listeners;
  std::vector<RateLimitSettings> rate_limits;
  MaintenanceSettings maintenance;
  std::vector<StaticMount> static_mounts;
  // X-Sendfile: absolute paths under these directories are served;
  // X-Accel-Redirect: URIs under a static mount. Empty = both ignored
  // (the headers are then passed through to the client unchanged).
  std::vector<std::string> sendfile_roots;
  bool accel_redirect = false;

  // Anything set at all (the gateway skips the edge layer otherwise).
  bool any() const {
    return !trusted_proxies.empty() || access.configured || !route_access.empty() || !listeners.empty() ||
           !rate_limits.empty() || maintenance.enabled || !maintenance.file.empty() || !maintenance.pools.empty() ||
           !static_mounts.empty() || !sendfile_roots.empty() || accel_redirect;
  }
};

}  // namespace pagi::gateway::edge
