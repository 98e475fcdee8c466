#include "gateway/edge/settings/edge_config_loader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "gateway/config/value_text.hpp"

namespace pagi::gateway::edge {
namespace {

namespace fs = std::filesystem;

std::string shape_of(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  if (node.IsNull()) return "nothing";
  return "\"" + node.Scalar() + "\"";
}

YAML::Mark mark_of(const YAML::Node& key, const YAML::Node& value) {
  return value.IsNull() || value.Mark().is_null() ? key.Mark() : value.Mark();
}

std::optional<double> to_number(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

// "10/s", "600/m", "1000/h", or a plain number of requests per second.
std::optional<double> to_rate(std::string_view text) {
  double per = 1;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    const auto unit = text.substr(slash + 1);
    if (unit == "s" || unit == "sec" || unit == "second")
      per = 1;
    else if (unit == "m" || unit == "min" || unit == "minute")
      per = 60;
    else if (unit == "h" || unit == "hour")
      per = 3600;
    else
      return std::nullopt;
    text = text.substr(0, slash);
  }
  const auto value = to_number(text);
  if (!value || *value <= 0) return std::nullopt;
  return *value / per;
}

// One section's reader: knows its path prefix and reports through `error`.
class Reader {
 public:
  Reader(const fs::path& base_dir, const EdgeErrorSink& error) : base_dir_(base_dir), error_(error) {}

  void fail(const YAML::Node& node, const std::string& path, const std::string& message) {
    error_(node.Mark(), path, message);
  }

  // Calls each(name, key, value) per map entry; false when not a map.
  template <class Each>
  bool entries(const YAML::Node& key, const YAML::Node& map, const std::string& path, const std::string& what,
               Each each) {
    if (map.IsNull()) return true;
    if (!map.IsMap()) {
      error_(mark_of(key, map), path, "expected " + what + ", got " + shape_of(map));
      return false;
    }
    std::vector<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        fail(it->first, path, "keys must be plain names, got " + shape_of(it->first));
        continue;
      }
      const std::string name = it->first.Scalar();
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        fail(it->first, path + "." + name, "duplicate key");
        continue;
      }
      seen.push_back(name);
      each(name, it->first, it->second);
    }
    return true;
  }

  void unknown(const YAML::Node& key, const std::string& path, std::string_view known) {
    fail(key, path, "unknown key (expected one of: " + std::string(known) + ")");
  }

  std::optional<std::string> scalar(const YAML::Node& key, const YAML::Node& v, const std::string& path,
                                    const std::string& what) {
    if (!v.IsScalar()) {
      error_(mark_of(key, v), path, "expected " + what + ", got " + shape_of(v));
      return std::nullopt;
    }
    return v.Scalar();
  }

  void boolean(const YAML::Node& key, const YAML::Node& v, const std::string& path, bool& out) {
    const auto text = scalar(key, v, path, "true or false");
    if (!text) return;
    if (const auto b = parse_bool(*text))
      out = *b;
    else
      fail(v, path, "expected true or false, got \"" + *text + "\"");
  }

  template <class Int>
  void integer(const YAML::Node& key, const YAML::Node& v, const std::string& path, Int& out, double min, double max) {
    const auto text = scalar(key, v, path, "an integer");
    if (!text) return;
    const auto n = to_number(*text);
    if (!n || *n != std::floor(*n) || *n < min || *n > max) {
      fail(v, path,
           "expected an integer between " + std::to_string(static_cast<long long>(min)) + " and " +
               std::to_string(static_cast<long long>(max)) + ", got \"" + *text + "\"");
      return;
    }
    out = static_cast<Int>(*n);
  }

  // A list of strings, or one string.
  std::vector<std::pair<std::string, YAML::Node>> strings(const YAML::Node& key, const YAML::Node& v,
                                                          const std::string& path) {
    std::vector<std::pair<std::string, YAML::Node>> out;
    if (v.IsNull()) return out;
    if (v.IsScalar()) {
      out.emplace_back(v.Scalar(), v);
      return out;
    }
    if (!v.IsSequence()) {
      error_(mark_of(key, v), path, "expected a list, got " + shape_of(v));
      return out;
    }
    for (const auto& item : v) {
      if (!item.IsScalar()) {
        fail(item, path, "expected a string, got " + shape_of(item) + " in the list");
        continue;
      }
      out.emplace_back(item.Scalar(), item);
    }
    return out;
  }

  std::vector<Cidr> cidrs(const YAML::Node& key, const YAML::Node& v, const std::string& path) {
    std::vector<Cidr> out;
    for (const auto& [text, node] : strings(key, v, path)) {
      std::string why;
      if (auto c = parse_cidr(text, why))
        out.push_back(std::move(*c));
      else
        fail(node, path, why);
    }
    return out;
  }

  std::string absolute_path(const std::string& text) {
    fs::path p(text);
    if (p.is_relative()) p = base_dir_ / p;
    return p.lexically_normal().string();
  }

  std::string read_file(const YAML::Node& node, const std::string& path, const std::string& file) {
    std::ifstream in(absolute_path(file), std::ios::binary);
    if (!in) {
      fail(node, path, "cannot read " + absolute_path(file));
      return {};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  AccessPolicy access(const YAML::Node& key, const YAML::Node& v, const std::string& path) {
    AccessPolicy policy;
    policy.configured = true;
    entries(key, v, path, "a map with default, action and rules",
            [&](const std::string& name, const YAML::Node& k, const YAML::Node& value) {
              const std::string p = path + "." + name;
              if (name == "default") {
                const auto text = scalar(k, value, p, "allow or deny");
                if (text == "allow")
                  policy.default_verdict = Verdict::allow;
                else if (text == "deny")
                  policy.default_verdict = Verdict::deny;
                else if (text)
                  fail(value, p, "expected allow or deny, got \"" + *text + "\"");
              } else if (name == "action") {
                const auto text = scalar(k, value, p, "forbid or close");
                if (text == "forbid" || text == "403")
                  policy.action = DenyAction::forbid;
                else if (text == "close")
                  policy.action = DenyAction::close;
                else if (text)
                  fail(value, p, "expected forbid or close, got \"" + *text + "\"");
              } else if (name == "rules") {
                if (!value.IsSequence()) {
                  error_(mark_of(k, value), p,
                         "expected a list of {allow: CIDR} / {deny: CIDR}, got " + shape_of(value));
                  return;
                }
                for (const auto& rule : value) {
                  if (!rule.IsMap() || rule.size() != 1) {
                    fail(rule, p, "each rule is one of allow: CIDR(s) or deny: CIDR(s), got " + shape_of(rule));
                    continue;
                  }
                  const auto it = rule.begin();
                  const std::string verb = it->first.IsScalar() ? it->first.Scalar() : "";
                  if (verb != "allow" && verb != "deny") {
                    fail(it->first, p, "each rule is one of allow: or deny:, got \"" + verb + "\"");
                    continue;
                  }
                  for (auto& c : cidrs(it->first, it->second, p + "." + verb))
                    policy.rules.push_back({verb == "allow" ? Verdict::allow : Verdict::deny, std::move(c)});
                }
              } else {
                unknown(k, p, "default, action, rules");
              }
            });
    return policy;
  }

  void listeners(const YAML::Node& key, const YAML::Node& v, EdgeSettings& out) {
    entries(key, v, "listeners", "a map of listen addresses to listener settings",
            [&](const std::string& address, const YAML::Node& k, const YAML::Node& body) {
              ListenerEdgeSettings l;
              l.address = address;
              const std::string path = "listeners." + address;
              entries(k, body, path, "a map of listener settings",
                      [&](const std::string& name, const YAML::Node& nk, const YAML::Node& value) {
                        if (name == "proxy_protocol")
                          boolean(nk, value, path + "." + name, l.proxy_protocol);
                        else if (name == "access")
                          l.access = access(nk, value, path + ".access");
                        else
                          unknown(nk, path + "." + name, "proxy_protocol, access");
                      });
              out.listeners.push_back(std::move(l));
            });
  }

  void trusted_proxies(const YAML::Node& key, const YAML::Node& v, EdgeSettings& out) {
    if (v.IsMap()) {
      entries(key, v, "trusted_proxies", "a map",
              [&](const std::string& name, const YAML::Node& k, const YAML::Node& value) {
                const std::string p = "trusted_proxies." + name;
                if (name == "addresses")
                  out.trusted_proxies = cidrs(k, value, p);
                else if (name == "max_hops")
                  integer(k, value, p, out.max_forwarded_hops, 1, 1000);
                else
                  unknown(k, p, "addresses, max_hops");
              });
      return;
    }
    out.trusted_proxies = cidrs(key, v, "trusted_proxies");
  }

  void rate_limits(const YAML::Node& key, const YAML::Node& v, EdgeSettings& out) {
    entries(key, v, "rate_limits", "a map of limit names to limits",
            [&](const std::string& limit_name, const YAML::Node& k, const YAML::Node& body) {
              RateLimitSettings r;
              r.name = limit_name;
              const std::string path = "rate_limits." + limit_name;
              bool has_rate = false;
              entries(k, body, path, "a map with key, rate, burst",
                      [&](const std::string& name, const YAML::Node& nk, const YAML::Node& value) {
                        const std::string p = path + "." + name;
                        if (name == "key") {
                          const auto text = scalar(nk, value, p, "client, route or header:NAME");
                          if (!text) return;
                          if (*text == "client")
                            r.key = RateKey::client;
                          else if (*text == "route")
                            r.key = RateKey::route;
                          else if (text->starts_with("header:") && text->size() > 7) {
                            r.key = RateKey::header;
                            r.header = text->substr(7);
                            std::transform(r.header.begin(), r.header.end(), r.header.begin(),
                                           [](unsigned char c) { return std::tolower(c); });
                          } else
                            fail(value, p, "expected client, route or header:NAME, got \"" + *text + "\"");
                        } else if (name == "rate") {
                          const auto text = scalar(nk, value, p, "a rate like 10/s, 600/m");
                          if (!text) return;
                          if (const auto rate = to_rate(*text))
                            r.rate = *rate, has_rate = true;
                          else
                            fail(value, p,
                                 "expected a rate > 0 like 10/s, 600/m or 5 (per second), got \"" + *text + "\"");
                        } else if (name == "burst") {
                          integer(nk, value, p, r.burst, 1, 1e9);
                        } else if (name == "max_keys") {
                          integer(nk, value, p, r.max_keys, 1, 1e8);
                        } else if (name == "path") {
                          const auto text = scalar(nk, value, p, "a path prefix");
                          if (text && (text->empty() || text->front() != '/'))
                            fail(value, p, "a path prefix starts with '/'");
                          else if (text)
                            r.path_prefix = *text;
                        } else {
                          unknown(nk, p, "key, rate, burst, max_keys, path");
                        }
                      });
              if (!has_rate) fail(k, path + ".rate", "every rate limit needs a rate");
              out.rate_limits.push_back(std::move(r));
            });
  }

  void maintenance(const YAML::Node& key, const YAML::Node& v, EdgeSettings& out) {
    auto& m = out.maintenance;
    entries(key, v, "maintenance", "a map of maintenance settings",
            [&](const std::string& name, const YAML::Node& k, const YAML::Node& value) {
              const std::string p = "maintenance." + name;
              if (name == "enabled")
                boolean(k, value, p, m.enabled);
              else if (name == "close_streams")
                boolean(k, value, p, m.close_streams);
              else if (name == "pools") {
                m.pools.clear();
                for (auto& [text, node] : strings(k, value, p)) m.pools.push_back(text);
              } else if (name == "file") {
                if (const auto text = scalar(k, value, p, "a file path"))
                  m.file = text->empty() ? "" : absolute_path(*text);
              } else if (name == "poll_interval") {
                const auto text = scalar(k, value, p, "seconds > 0");
                const auto s = text ? parse_seconds(*text) : std::nullopt;
                if (s && *s > 0)
                  m.poll_interval = *s;
                else if (text)
                  fail(value, p, "expected a number of seconds > 0, got \"" + *text + "\"");
              } else if (name == "retry_after") {
                integer(k, value, p, m.retry_after, 0, 1e9);
              } else if (name == "bypass") {
                m.bypass = cidrs(k, value, p);
              } else if (name == "exempt_paths") {
                m.exempt_paths.clear();
                for (auto& [text, node] : strings(k, value, p)) m.exempt_paths.push_back(text);
              } else if (name == "html" || name == "json") {
                if (const auto text = scalar(k, value, p, "a string"))
                  (name == "html" ? m.html_body : m.json_body) = *text;
              } else if (name == "html_file" || name == "json_file") {
                if (const auto text = scalar(k, value, p, "a file path"))
                  (name == "html_file" ? m.html_body : m.json_body) = read_file(value, p, *text);
              } else {
                unknown(k, p,
                        "enabled, pools, close_streams, file, poll_interval, retry_after, bypass, exempt_paths, html, "
                        "json, html_file, json_file");
              }
            });
  }

  void static_mounts(const YAML::Node& key, const YAML::Node& v, EdgeSettings& out) {
    entries(key, v, "static", "a map of URL prefixes to directories",
            [&](const std::string& prefix, const YAML::Node& k, const YAML::Node& body) {
              StaticMount mount;
              const std::string path = "static." + prefix;
              mount.prefix = prefix;
              while (mount.prefix.size() > 1 && mount.prefix.back() == '/') mount.prefix.pop_back();
              if (mount.prefix.empty() || mount.prefix.front() != '/') fail(k, path, "a URL prefix starts with '/'");
              if (mount.prefix == "/") mount.prefix.clear();  // the whole site
              if (body.IsScalar()) {
                mount.root = absolute_path(body.Scalar());
              } else {
                entries(k, body, path, "a directory or a map with root",
                        [&](const std::string& name, const YAML::Node& nk, const YAML::Node& value) {
                          const std::string p = path + "." + name;
                          if (name == "root") {
                            if (const auto text = scalar(nk, value, p, "a directory"))
                              mount.root = absolute_path(*text);
                          } else if (name == "symlinks") {
                            const auto text = scalar(nk, value, p, "deny, within_root or follow");
                            if (text == "deny")
                              mount.symlinks = SymlinkPolicy::deny;
                            else if (text == "within_root")
                              mount.symlinks = SymlinkPolicy::within_root;
                            else if (text == "follow")
                              mount.symlinks = SymlinkPolicy::follow;
                            else if (text)
                              fail(value, p, "expected deny, within_root or follow, got \"" + *text + "\"");
                          } else if (name == "index") {
                            if (const auto text = scalar(nk, value, p, "a file name")) {
                              if (text->find('/') != std::string::npos)
                                fail(value, p, "an index is a file name, without '/'");
                              else
                                mount.index = *text;
                            }
                          } else if (name == "precompressed") {
                            boolean(nk, value, p, mount.precompressed);
                          } else if (name == "max_age") {
                            integer(nk, value, p, mount.max_age, 0, 1e9);
                          } else if (name == "internal") {
                            boolean(nk, value, p, mount.internal);
                          } else {
                            unknown(nk, p, "root, symlinks, index, precompressed, max_age, internal");
                          }
                        });
              }
              std::error_code ec;
              if (mount.root.empty())
                fail(k, path + ".root", "a static mount needs a root directory");
              else if (!fs::is_directory(mount.root, ec))
                fail(k, path + ".root", "\"" + mount.root + "\" is not a directory");
              else
                mount.root = fs::canonical(mount.root, ec).string();
              out.static_mounts.push_back(std::move(mount));
            });
    // Longest prefix first, so the most specific mount answers.
    std::stable_sort(out.static_mounts.begin(), out.static_mounts.end(),
                     [](const StaticMount& a, const StaticMount& b) { return a.prefix.size() > b.prefix.size(); });
  }

  void sendfile(const YAML::Node& key, const YAML::Node& v, EdgeSettings& out) {
    entries(key, v, "sendfile", "a map with roots and accel_redirect",
            [&](const std::string& name, const YAML::Node& k, const YAML::Node& value) {
              const std::string p = "sendfile." + name;
              if (name == "roots") {
                for (auto& [text, node] : strings(k, value, p)) {
                  std::error_code ec;
                  const auto dir = absolute_path(text);
                  if (!fs::is_directory(dir, ec))
                    fail(node, p, "\"" + dir + "\" is not a directory");
                  else
                    out.sendfile_roots.push_back(fs::canonical(dir, ec).string());
                }
              } else if (name == "accel_redirect") {
                boolean(k, value, p, out.accel_redirect);
              } else {
                unknown(k, p, "roots, accel_redirect");
              }
            });
  }

 private:
  fs::path base_dir_;
  const EdgeErrorSink& error_;
};

}  // namespace

const std::vector<std::string_view>& edge_key_names() {
  static const std::vector<std::string_view> names = {"trusted_proxies", "access",      "route_access", "listeners",
                                                      "rate_limits",     "maintenance", "static",       "sendfile"};
  return names;
}

bool is_edge_key(std::string_view name) {
  const auto& names = edge_key_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void load_edge_key(std::string_view name, const YAML::Node& key, const YAML::Node& value, const fs::path& base_dir,
                   EdgeSettings& out, const EdgeErrorSink& error) {
  Reader r(base_dir, error);
  if (name == "trusted_proxies")
    r.trusted_proxies(key, value, out);
  else if (name == "access")
    out.access = r.access(key, value, "access");
  else if (name == "route_access") {
    r.entries(key, value, "route_access", "a map of route prefixes to access rules",
              [&](const std::string& prefix, const YAML::Node& k, const YAML::Node& body) {
                out.route_access[prefix] = r.access(k, body, "route_access." + prefix);
              });
  } else if (name == "listeners")
    r.listeners(key, value, out);
  else if (name == "rate_limits")
    r.rate_limits(key, value, out);
  else if (name == "maintenance")
    r.maintenance(key, value, out);
  else if (name == "static")
    r.static_mounts(key, value, out);
  else if (name == "sendfile")
    r.sendfile(key, value, out);
}

std::string check_edge_references(const EdgeSettings& edge, const std::vector<std::string>& listen_texts,
                                  const std::vector<std::string>& route_prefixes,
                                  const std::vector<std::string>& pool_names) {
  auto has = [](const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
  };
  for (const auto& l : edge.listeners)
    if (!has(listen_texts, l.address)) return "listeners.\"" + l.address + "\": not an address of listen";
  for (const auto& [prefix, policy] : edge.route_access) {
    std::string normal = prefix;
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    if (!has(route_prefixes, normal) && !(normal == "/" && route_prefixes.empty()))
      return "route_access.\"" + prefix + "\": no such route";
  }
  for (const auto& pool : edge.maintenance.pools)
    if (!has(pool_names, pool)) return "maintenance.pools: no pool named \"" + pool + "\"";
  return {};
}

}  // namespace pagi::gateway::edge
