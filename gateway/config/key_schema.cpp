// Every configuration key, declared once (STYLE.md 12). Over 500 lines on
// purpose: the table is one list so that no key can be declared twice or
// documented apart from its parser; the helpers above it are tiny.
#include "gateway/config/key_schema.hpp"

#include <algorithm>

#include "gateway/config/app_kind.hpp"
#include "gateway/config/value_text.hpp"

namespace pagi::gateway {
namespace {

using workers::PoolSettings;
constexpr std::int64_t unbounded = std::numeric_limits<std::int64_t>::max();

// The struct each level writes into, so one helper binds a member pointer
// at any level.
template <class S>
S& section(ConfigTarget& t);
template <>
GatewayConfig& section(ConfigTarget& t) {
  return t.config;
}
template <>
HttpSettings& section(ConfigTarget& t) {
  return t.config.http;
}
template <>
PoolSettings& section(ConfigTarget& t) {
  return t.pool;
}
template <>
AccessLogSettings& section(ConfigTarget& t) {
  return t.config.access_log;
}
template <>
AdminSettings& section(ConfigTarget& t) {
  return t.config.admin;
}
template <>
ProcessSettings& section(ConfigTarget& t) {
  return t.config.process;
}
template <class S>
const S& section(const GatewayConfig& c, const PoolSettings& p);
template <>
const GatewayConfig& section(const GatewayConfig& c, const PoolSettings&) {
  return c;
}
template <>
const HttpSettings& section(const GatewayConfig& c, const PoolSettings&) {
  return c.http;
}
template <>
const PoolSettings& section(const GatewayConfig&, const PoolSettings& p) {
  return p;
}
template <>
const AccessLogSettings& section(const GatewayConfig& c, const PoolSettings&) {
  return c.access_log;
}
template <>
const AdminSettings& section(const GatewayConfig& c, const PoolSettings&) {
  return c.admin;
}
template <>
const ProcessSettings& section(const GatewayConfig& c, const PoolSettings&) {
  return c.process;
}

template <class S>
constexpr KeyLevel level_of() {
  if constexpr (std::is_same_v<S, HttpSettings>)
    return KeyLevel::http;
  else if constexpr (std::is_same_v<S, PoolSettings>)
    return KeyLevel::pool;
  else if constexpr (std::is_same_v<S, AccessLogSettings>)
    return KeyLevel::access_log;
  else if constexpr (std::is_same_v<S, AdminSettings>)
    return KeyLevel::admin;
  else
    return KeyLevel::top;
}

// Designated initialisers would warn about every member left out.
KeyDef make_key(std::string_view name, KeyLevel level, KeyType type, std::string_view doc) {
  KeyDef key;
  key.name = name;
  key.level = level;
  key.type = type;
  key.doc = doc;
  return key;
}

// Integer counts and byte sizes share storage (int64 in KeyValue) and differ
// only in how they are written.
template <class S, class F>
KeyDef number_key(KeyType type, std::string_view name, F S::*member, std::int64_t min, std::int64_t max,
                  std::string_view doc) {
  KeyDef key = make_key(name, level_of<S>(), type, doc);
  key.min = min;
  key.max = max;
  key.set = [member](ConfigTarget& t, const KeyValue& v) {
    section<S>(t).*member = static_cast<F>(std::get<std::int64_t>(v));
  };
  key.get = [member](const GatewayConfig& c, const PoolSettings& p) -> KeyValue {
    return static_cast<std::int64_t>(section<S>(c, p).*member);
  };
  return key;
}

template <class S, class F>
KeyDef integer_key(std::string_view name, F S::*member, std::int64_t min, std::int64_t max, std::string_view doc) {
  return number_key(KeyType::integer, name, member, min, max, doc);
}

template <class S, class F>
KeyDef size_key(std::string_view name, F S::*member, std::int64_t min, std::string_view doc) {
  constexpr auto type_max = std::numeric_limits<F>::max();
  std::int64_t max = type_max > static_cast<std::uint64_t>(unbounded) ? unbounded : static_cast<std::int64_t>(type_max);
  return number_key(KeyType::size, name, member, min, max, doc);
}

template <class S>
KeyDef seconds_key(std::string_view name, Seconds S::*member, bool zero_allowed, std::string_view doc) {
  KeyDef key = make_key(name, level_of<S>(), KeyType::seconds, doc);
  key.zero_allowed = zero_allowed;
  key.set = [member](ConfigTarget& t, const KeyValue& v) { section<S>(t).*member = Seconds(std::get<double>(v)); };
  key.get = [member](const GatewayConfig& c, const PoolSettings& p) -> KeyValue {
    return (section<S>(c, p).*member).count();
  };
  return key;
}

template <class S>
KeyDef string_key(std::string_view name, std::string S::*member, std::string_view doc) {
  KeyDef key = make_key(name, level_of<S>(), KeyType::string, doc);
  key.set = [member](ConfigTarget& t, const KeyValue& v) { section<S>(t).*member = std::get<std::string>(v); };
  key.get = [member](const GatewayConfig& c, const PoolSettings& p) -> KeyValue { return section<S>(c, p).*member; };
  return key;
}

// Strings end up in headers, argv and the environment: no line breaks or NULs.
bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

KeyDef listen_key() {
  KeyDef key = make_key("listen", KeyLevel::top, KeyType::listen_list,
                        "Where to accept clients: host:port, [ipv6]:port or unix:/path; one or a list. "
                        "\":port\" means every IPv4 interface; a relative unix path starts at the config file's "
                        "directory. An entry may be a map {address, tls: {cert, key, client_ca, verify_client, "
                        "min_version, ciphers, alpn}, h2c: true|false|only} (docs/configuration.md, TLS listeners).");
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    const auto& texts = std::get<std::vector<std::string>>(v);
    if (texts.empty()) throw KeyValueError("expected at least one address, got an empty list");
    std::vector<ListenAddress> addresses;
    for (const auto& text : texts) {
      ListenAddress address;
      try {
        address = !text.empty() && text.front() == '{' ? parse_listen_entry(text, t.base_dir.string())
                                                       : parse_listen_address(text);
      } catch (const ConfigError& e) {
        throw KeyValueError(e.what());
      }
      if (address.kind == ListenAddress::Kind::unix_socket && std::filesystem::path(address.path).is_relative()) {
        // Re-parse the resolved form so its length is checked too.
        try {
          auto resolved = parse_listen_address("unix:" + (t.base_dir / address.path).lexically_normal().string());
          address.path = resolved.path;
        } catch (const ConfigError& e) {
          throw KeyValueError(e.what());
        }
      }
      for (const auto& earlier : addresses) {
        // Port 0 twice is two ephemeral ports (e.g. cleartext and TLS in tests).
        const bool ephemeral = address.kind == ListenAddress::Kind::tcp && address.port == 0;
        if (earlier.text() == address.text() && !ephemeral) throw KeyValueError("\"" + text + "\" is listed twice");
      }
      addresses.push_back(std::move(address));
    }
    t.config.listen = std::move(addresses);
  };
  key.get = [](const GatewayConfig& c, const PoolSettings&) -> KeyValue {
    std::vector<std::string> texts;
    for (const auto& address : c.listen) texts.push_back(address.entry.empty() ? address.text() : address.entry);
    return texts;
  };
  return key;
}

KeyDef log_level_key() {
  KeyDef key = string_key("log_level", &GatewayConfig::log_level, "Least severe log messages written.");
  key.type = KeyType::enumeration;
  key.choices = {"trace", "debug", "info", "warn", "error"};
  return key;
}

KeyDef log_format_key() {
  KeyDef key = string_key("log_format", &GatewayConfig::log_format,
                          "Error log format on stderr: text lines, or one JSON object per line (time, level, message; "
                          "pool and pid for a worker's stderr lines).");
  key.type = KeyType::enumeration;
  key.choices = {"text", "json"};
  return key;
}

KeyDef app_key() {
  KeyDef key =
      make_key("app", KeyLevel::pool, KeyType::path,
               "The app the workers run: a Perl PAGI app file (*.pl), a Python module:attribute (imported from "
               "app_dir) or a Python path/to/file.py:attribute. Relative paths start at the config file's directory.");
  key.default_note = "(none: required unless APP is given)";
  key.example = "examples/hello/app.pl";
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    const auto& app = std::get<std::string>(v);
    t.pool.app = resolve_app(app, t.base_dir);
    // Where the app was named is where its modules are, unless app_dir says otherwise.
    if (is_python_app(classify_app(app)) && t.pool.app_dir.empty())
      t.pool.app_dir = t.base_dir.lexically_normal().string();
  };
  key.get = [](const GatewayConfig&, const PoolSettings& p) -> KeyValue { return p.app; };
  return key;
}

KeyDef interface_key() {
  KeyDef key = string_key("interface", &PoolSettings::interface,
                          "How the worker calls the app. Python: auto detects an ASGI 3 callable, a WSGI callable or "
                          "a PAGI-native app marked pagi_app = True (pagi: not supported by the Python SDK yet). Perl: "
                          "auto goes by the name (*.pl PAGI, *.psgi PSGI, "
                          "*.cgi or dir/ CGI); psgi or cgi force those.");
  key.type = KeyType::enumeration;
  key.choices = {"auto", "asgi", "wsgi", "pagi", "psgi", "cgi"};
  return key;
}

// A CGI pool: one script or a directory of scripts, run by the Perl SDK.
KeyDef cgi_key() {
  KeyDef key = make_key("cgi", KeyLevel::pool, KeyType::path,
                        "A CGI script, or a directory of CGI scripts (the first path segment names the script), run "
                        "per request by the Perl worker; instead of app. Relative to the config file's directory.");
  key.default_note = "(none)";
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    // Empty = not a CGI pool (the generated example sets every key).
    if (std::get<std::string>(v).empty()) return;
    t.pool.app = resolve_cgi_target(std::get<std::string>(v), t.base_dir);
    t.pool.interface = "cgi";
  };
  key.get = [](const GatewayConfig&, const PoolSettings& p) -> KeyValue {
    return p.interface == "cgi" ? p.app : std::string();
  };
  return key;
}

KeyDef app_dir_key() {
  KeyDef key = make_key("app_dir", KeyLevel::pool, KeyType::path,
                        "Python apps: directory a module:attribute app is imported from (put first on sys.path). "
                        "Relative to the config file's directory.");
  key.default_note = "(the config file's directory; the current directory for APP)";
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    namespace fs = std::filesystem;
    // Empty means the default, which the app key fills in.
    if (std::get<std::string>(v).empty()) return;
    fs::path dir(std::get<std::string>(v));
    if (dir.is_relative()) dir = t.base_dir / dir;
    dir = fs::absolute(dir).lexically_normal();
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw KeyValueError("app_dir \"" + std::get<std::string>(v) + "\" is not a directory (" + dir.string() + ")");
    t.pool.app_dir = dir.string();
  };
  key.get = [](const GatewayConfig&, const PoolSettings& p) -> KeyValue { return p.app_dir; };
  return key;
}

KeyDef python_key() {
  KeyDef key = string_key("python", &PoolSettings::python,
                          "Python apps: the interpreter that runs the worker; a bare name is looked up in PATH.");
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    if (std::get<std::string>(v).empty()) throw KeyValueError("expected an interpreter, got an empty string");
    t.pool.python = std::get<std::string>(v);
  };
  return key;
}

// Attach mode: a Unix socket path, relative to the config file's directory.
KeyDef attach_key() {
  KeyDef key = make_key("attach", KeyLevel::pool, KeyType::path,
                        "Attach mode: listen on this Unix socket for workers started by someone else (they "
                        "connect with --connect PATH --pool NAME) instead of spawning any; excludes app and "
                        "command. Relative to the config file's directory.");
  key.default_note = "(none: the pool spawns its workers)";
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    std::filesystem::path path(std::get<std::string>(v));
    if (path.empty()) {
      t.pool.attach.clear();
      return;
    }
    if (path.is_relative()) path = t.base_dir / path;
    t.pool.attach = std::filesystem::absolute(path).lexically_normal().string();
  };
  key.get = [](const GatewayConfig&, const PoolSettings& p) -> KeyValue { return p.attach; };
  return key;
}

KeyDef attach_mode_key() {
  KeyDef key =
      make_key("attach_mode", KeyLevel::pool, KeyType::string,
               "Attach mode: permission bits of the socket file, octal (\"0660\": owner and group may connect).");
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    const auto& text = std::get<std::string>(v);
    if (text.empty() || text.size() > 4 || text.find_first_not_of("01234567") != std::string::npos)
      throw KeyValueError("expected octal permission bits such as \"0660\", got \"" + text + "\"");
    t.pool.attach_mode = static_cast<unsigned>(std::stoul(text, nullptr, 8));
  };
  key.get = [](const GatewayConfig&, const PoolSettings& p) -> KeyValue {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", p.attach_mode);
    return std::string(buf);
  };
  return key;
}

KeyDef command_key() {
  KeyDef key = make_key("command", KeyLevel::pool, KeyType::string_list,
                        "Full worker argv, run as given; empty = the SDK's worker for the app's kind.");
  key.default_note = "(derived from app)";
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    const auto& argv = std::get<std::vector<std::string>>(v);
    if (!argv.empty() && argv.front().empty()) throw KeyValueError("the program (first item) cannot be empty");
    t.pool.command = argv;
  };
  key.get = [](const GatewayConfig&, const PoolSettings& p) -> KeyValue { return p.command; };
  return key;
}

KeyDef env_key() {
  KeyDef key = make_key("env", KeyLevel::pool, KeyType::string_map, "Extra environment variables for the workers.");
  key.default_note = "(none)";
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    const auto& env = std::get<std::map<std::string, std::string>>(v);
    for (const auto& [name, value] : env) {
      if (name.empty() || name.find('=') != std::string::npos) {
        throw KeyValueError("\"" + name + "\" is not an environment variable name (empty or holds '=')");
      }
    }
    t.pool.env = env;
  };
  key.get = [](const GatewayConfig&, const PoolSettings& p) -> KeyValue { return p.env; };
  return key;
}

KeyDef lifespan_key() {
  KeyDef key =
      make_key("lifespan", KeyLevel::pool, KeyType::enumeration,
               "Lifespan scope: auto runs it and tolerates apps without one; on requires it; off never opens it.");
  key.choices = {"auto", "on", "off"};
  key.set = [](ConfigTarget& t, const KeyValue& v) {
    const auto& word = std::get<std::string>(v);
    t.pool.lifespan = word == "on"    ? wire::LifespanMode::ON
                      : word == "off" ? wire::LifespanMode::OFF
                                      : wire::LifespanMode::AUTO;
  };
  key.get = [](const GatewayConfig&, const PoolSettings& p) -> KeyValue {
    switch (p.lifespan) {
      case wire::LifespanMode::ON: return std::string("on");
      case wire::LifespanMode::OFF: return std::string("off");
      default: return std::string("auto");
    }
  };
  return key;
}

// Access log, admin listener and process integration (gateway/observability).
void append_ops_keys(std::vector<KeyDef>& keys) {
  using A = AccessLogSettings;
  using M = AdminSettings;
  using R = ProcessSettings;
  keys.push_back(string_key("pid_file", &R::pid_file,
                            "Write the gateway's pid to this file once it listens; removed at exit. Empty = none."));
  keys.push_back(
      string_key("user", &R::user,
                 "Run as this user after binding the listeners (needs root to start); workers too. Empty = stay."));
  keys.push_back(string_key("group", &R::group, "Run as this group after binding; empty = the user's primary group."));
  {
    KeyDef key = make_key("systemd_notify", KeyLevel::top, KeyType::boolean,
                          "Send READY/STOPPING/WATCHDOG to systemd when NOTIFY_SOCKET is set (Type=notify).");
    key.set = [](ConfigTarget& t, const KeyValue& v) { t.config.process.systemd_notify = std::get<bool>(v); };
    key.get = [](const GatewayConfig& c, const PoolSettings&) -> KeyValue { return c.process.systemd_notify; };
    keys.push_back(key);
  }
  keys.push_back(string_key("format", &A::format,
                            "common, combined, tiny, json, or a custom format of %atoms (docs/operations.md)."));
  keys.push_back(string_key("path", &A::path, "stdout, stderr, off, or a file (appended; reopened on SIGUSR1)."));
  keys.push_back(
      seconds_key("flush_interval", &A::flush_interval, false, "Longest a line waits in memory before it is written."));
  keys.push_back(size_key("buffer_bytes", &A::buffer_bytes, 4096,
                          "Lines waiting for a stuck destination beyond this are dropped and counted."));
  {
    KeyDef key = string_key("listen", &M::listen,
                            "Admin listener (/livez, /readyz, /metrics, /status, POST /reload /drain /scale): "
                            "host:port or unix:/path. Empty = off.");
    key.set = [](ConfigTarget& t, const KeyValue& v) {
      const auto& text = std::get<std::string>(v);
      if (!text.empty()) {
        ListenAddress admin;
        try {
          admin = parse_listen_address(text);
        } catch (const ConfigError& e) {
          throw KeyValueError(e.what());
        }
        // Port 0 (tests) always gets a port of its own.
        const bool fixed = admin.kind == ListenAddress::Kind::unix_socket || admin.port != 0;
        for (const auto& traffic : t.config.listen) {
          if (fixed && traffic.text() == admin.text())
            throw KeyValueError("the admin listener cannot share the traffic address " + text);
        }
      }
      t.config.admin.listen = text;
    };
    keys.push_back(key);
  }
  keys.push_back(size_key("max_request_bytes", &M::max_request_bytes, 1024, "Largest admin request head."));
  keys.push_back(seconds_key("request_timeout", &M::request_timeout, false,
                             "An admin client that sends no complete request in this time is closed."));
}

std::vector<KeyDef> make_keys() {
  using H = HttpSettings;
  using P = PoolSettings;
  std::vector<KeyDef> keys;
  keys.push_back(listen_key());
  keys.push_back(log_level_key());
  keys.push_back(log_format_key());

  keys.push_back(size_key("max_request_line", &H::max_request_line, 1,
                          "Longest request line (method, target, version); longer -> 414."));
  keys.push_back(size_key("max_header_bytes", &H::max_header_bytes, 1, "Largest header section; larger -> 431."));
  keys.push_back(
      integer_key("max_headers", &H::max_headers, 1, unbounded, "Most header fields in one request; more -> 431."));
  keys.push_back(size_key("max_body_bytes", &H::max_body_bytes, 0,
                          "Largest request body, declared or streamed; larger -> 413. 0 = unlimited."));
  keys.push_back(integer_key("max_connections", &H::max_connections, 1, unbounded,
                             "Open client connections; further accepts wait."));
  keys.push_back(integer_key("max_pipelined", &H::max_pipelined, 1, unbounded,
                             "HTTP/1: complete requests parsed ahead of the one being answered; at this count the "
                             "connection stops reading until that one finishes (backpressure, not an error)."));
  keys.push_back(seconds_key("header_timeout", &H::header_timeout, false,
                             "From accept (or the end of the previous response) to a complete request head."));
  keys.push_back(
      seconds_key("keepalive_timeout", &H::keepalive_timeout, false, "Idle keep-alive connection between requests."));
  keys.push_back(seconds_key("request_timeout", &H::request_timeout, true,
                             "Default request_timeout of every pool (pools.<name>.request_timeout overrides it): no "
                             "response started by then -> 504. 0 = off."));
  keys.push_back(seconds_key("write_timeout", &H::write_timeout, false,
                             "A write making no progress this long aborts the connection."));
  keys.push_back(
      seconds_key("body_timeout", &H::body_timeout, false, "Client stopped sending the request body this long."));
  keys.push_back(seconds_key("shutdown_timeout", &H::shutdown_timeout, true,
                             "Graceful shutdown: time in-flight requests, and apps still working after their "
                             "response (background tasks), get to finish; then each worker runs lifespan shutdown."));
  keys.push_back(string_key("server_header", &H::server_header, "Value of the Server response header; empty = none."));
  keys.push_back(string_key("request_id_header", &H::request_id_header,
                            "Echo the request id (x-request-id kept when valid, else generated; the app sees it in the "
                            "scope) in this response header. Empty = not echoed."));

  keys.push_back(integer_key("h2_max_concurrent_streams", &H::h2_max_concurrent_streams, 1, 1u << 20,
                             "HTTP/2: streams a client may have open at once; more are refused."));
  // HTTP/2 windows are at most 2^31-1 (RFC 9113 6.9.1).
  keys.push_back(size_key("h2_stream_window", &H::h2_stream_window, 1024,
                          "HTTP/2: request-body window per stream, reopened only as the app takes the bytes."));
  keys.back().max = 0x7fffffff;
  keys.push_back(size_key("h2_connection_window", &H::h2_connection_window, 65535,
                          "HTTP/2: request-body window of a whole connection."));
  keys.back().max = 0x7fffffff;
  keys.push_back(seconds_key(
      "h2_stream_timeout", &H::h2_stream_timeout, true,
      "HTTP/2: reset a stream with no frame either way for this long (one sweep timer per connection). 0 = off."));
  keys.push_back(integer_key("h2_reset_burst", &H::h2_reset_burst, 1, unbounded,
                             "HTTP/2 Rapid Reset defence: client stream resets allowed in a burst."));
  keys.push_back(
      integer_key("h2_resets_per_second", &H::h2_resets_per_second, 1, unbounded,
                  "HTTP/2 Rapid Reset defence: sustained client stream resets per second; beyond that GOAWAY."));
  keys.push_back(integer_key("h2_max_continuations", &H::h2_max_continuations, 1, unbounded,
                             "HTTP/2: CONTINUATION frames allowed after one HEADERS frame."));
  keys.push_back(integer_key("h2_max_settings", &H::h2_max_settings, 1, unbounded,
                             "HTTP/2: entries allowed in one SETTINGS frame."));
  keys.push_back(integer_key("h2_max_queued_acks", &H::h2_max_queued_acks, 1, unbounded,
                             "HTTP/2: SETTINGS/PING acknowledgements queued for a client that does not read; more end "
                             "the connection (flood defence)."));

  keys.push_back(
      size_key("max_ws_message_size", &H::max_ws_message_size, 125,
               "WebSocket: largest client message (all its fragments); larger closes the connection with 1009."));
  keys.push_back(size_key("max_ws_frame_size", &H::max_ws_frame_size, 125,
                          "WebSocket: largest payload of one client frame; larger closes the connection with 1009."));
  keys.push_back(integer_key("ws_max_queue", &H::ws_max_queue, 1, unbounded,
                             "WebSocket: client messages held while the app has no receive credit; one more closes the "
                             "connection with 1008 (queue_overflow)."));
  keys.push_back(seconds_key(
      "ws_idle_timeout", &H::ws_idle_timeout, true,
      "WebSocket: no message either way for this long closes the connection with 1001 (idle_timeout). 0 = off."));
  keys.push_back(
      seconds_key("sse_idle_timeout", &H::sse_idle_timeout, true,
                  "SSE: no event or comment from the app for this long ends the stream (idle_timeout). 0 = off."));

  keys.push_back(app_key());
  keys.push_back(interface_key());
  keys.push_back(cgi_key());
  keys.push_back(seconds_key(
      "cgi_timeout", &P::cgi_timeout, false,
      "CGI: longest a script may run; then SIGTERM (SIGKILL after cgi_kill_grace) and 504 if no response started."));
  keys.push_back(seconds_key("cgi_kill_grace", &P::cgi_kill_grace, false,
                             "CGI: time between SIGTERM and SIGKILL for a timed-out script."));
  keys.push_back(app_dir_key());
  keys.push_back(python_key());
  keys.push_back(command_key());
  keys.push_back(env_key());
  keys.push_back(integer_key("workers", &P::workers, 1, 4096, "Worker processes."));
  keys.push_back(
      integer_key("concurrency", &P::concurrency, 0, 1000000,
                  "http request scopes one worker runs at once (websocket/sse scopes count against stream_concurrency, "
                  "except on a worker with concurrency 1, where every scope takes the single slot). 0 = what the "
                  "worker's hello says (100 for Perl PAGI and ASGI apps, 1 for WSGI apps)."));
  keys.push_back(lifespan_key());
  keys.push_back(integer_key("queue_size", &P::queue_size, 0, unbounded,
                             "Scopes waiting for a free worker slot; past this -> 503. 0 = no waiting."));
  keys.push_back(
      seconds_key("queue_timeout", &P::queue_timeout, false, "Longest wait in that queue -> 503 with Retry-After."));
  keys.push_back(
      seconds_key("startup_timeout", &P::startup_timeout, false, "From spawn to ready (hello and lifespan startup)."));
  keys.push_back(seconds_key("shutdown_timeout", &P::shutdown_timeout, true,
                             "Lifespan shutdown plus exit after the gateway is told to stop."));
  keys.push_back(seconds_key("restart_delay", &P::restart_delay, true,
                             "First delay before restarting a crashed worker; doubled per consecutive failure."));
  keys.push_back(
      seconds_key("restart_delay_max", &P::restart_delay_max, true, "Cap of that delay; at least restart_delay."));
  keys.push_back(integer_key("crash_loop_threshold", &P::crash_loop_threshold, 1, unbounded,
                             "Consecutive failed starts after which the pool is reported crash-looping."));
  keys.push_back(size_key("send_window", &P::send_window, 1024,
                          "Response bytes per scope a worker may have in flight (flow control)."));
  keys.push_back(size_key("receive_window", &P::receive_window, 1024,
                          "Request body bytes per scope sent before the app asks for more."));
  keys.push_back(size_key("max_message_bytes", &P::max_message_bytes, 64 * 1024,
                          "Largest frame accepted from a worker; raised to `http.max_ws_message_size` + 64 KiB when "
                          "below it, so an app can send back the largest message a client may send."));
  keys.push_back(size_key("body_ring", &P::body_ring, 0,
                          "Shared memory ring per spawned worker that response bodies can travel through instead of "
                          "the worker socket, the gateway writing the client straight from it (docs/protocol.md, "
                          "section 3c; the Perl SDK with its XS part and the Python SDK send bodies of 4 KiB and more "
                          "through it). Pages are allocated as the worker first writes them; those SDKs free what lies "
                          "past the first MiB once the gateway has emptied the ring and no body has used it for a "
                          "second. Size it to what the "
                          "worker streams at once (concurrency x send_window at most): a span that finds the ring "
                          "full goes inline. 0 = off. Not for attached workers."));
  keys.push_back(seconds_key("heartbeat_interval", &P::heartbeat_interval, true,
                             "Heartbeat ping interval to each worker. 0 = off."));
  keys.push_back(integer_key("heartbeat_misses", &P::heartbeat_misses, 1, unbounded,
                             "Unanswered heartbeats after which a worker counts as hung and is killed."));
  keys.push_back(seconds_key(
      "stop_grace", &P::stop_grace, false,
      "Graceful stop: time a worker gets to exit after shutdown, and again after SIGTERM, before the harder signal."));
  keys.push_back(
      integer_key("max_requests", &P::max_requests, 0, unbounded,
                  "Recycle a worker after this many scopes of any type (replacement first, then drain). 0 = never."));
  keys.push_back(integer_key("max_requests_jitter", &P::max_requests_jitter, 0, unbounded,
                             "Random extra scopes (0..this) per worker, so workers do not recycle together."));
  keys.push_back(seconds_key("max_lifetime", &P::max_lifetime, true,
                             "Recycle a worker after it has been ready this long. 0 = never."));
  keys.push_back(
      seconds_key("max_lifetime_jitter", &P::max_lifetime_jitter, true, "Random extra lifetime (0..this) per worker."));
  keys.push_back(
      size_key("max_rss", &P::max_rss, 0,
               "Recycle a worker whose resident memory (shared memory such as the body ring not counted) stays above "
               "this for max_rss_samples checks. 0 = no limit."));
  keys.push_back(integer_key("max_rss_samples", &P::max_rss_samples, 1, unbounded,
                             "Consecutive memory samples over max_rss that trigger the recycle."));
  keys.push_back(seconds_key("check_interval", &P::check_interval, false,
                             "How often max_lifetime is checked and memory sampled."));
  keys.push_back(seconds_key("drain_timeout", &P::drain_timeout, true,
                             "A draining worker's scopes (recycle, reload, removal) get this long; the rest are closed "
                             "with server_shutdown."));
  keys.push_back(seconds_key("request_timeout", &P::request_timeout, true,
                             "No response started by then -> 504, and the app is told. 0 = http.request_timeout."));
  keys.push_back(seconds_key(
      "cancel_grace", &P::cancel_grace, true,
      "After a request timeout the worker gets this long to end the scope; a worker still holding it is replaced."));
  keys.push_back(attach_key());
  keys.push_back(attach_mode_key());
  keys.push_back(
      string_key("attach_owner", &P::attach_owner,
                 "Attach mode: owner of the socket file, \"user\" or \"user:group\"; empty = the gateway's user."));
  keys.push_back(
      integer_key("attach_max_workers", &P::attach_max_workers, 1, 100000,
                  "Attach mode: workers connected at once; further connections are closed with a logged reason."));
  keys.push_back(
      integer_key("stream_concurrency", &P::stream_concurrency, 0, 1000000,
                  "websocket and sse scopes (and http requests accepting text/event-stream, the SSE of ASGI apps) one "
                  "worker runs at once, apart from concurrency. 0 = 10000. Ignored by a worker with concurrency 1 "
                  "(streams then take its single slot). An idle WebSocket costs ~14 KiB (gateway + Perl worker)."));
  keys.push_back(
      integer_key("max_streams", &P::max_streams, 0, 100000000,
                  "websocket and sse scopes open in the whole pool at once; further handshakes wait in the queue "
                  "(queue_size, queue_timeout). 0 = no pool-wide bound (workers x stream_concurrency)."));
  append_ops_keys(keys);
  return keys;
}

std::string quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Whether a scalar must be quoted to read back as the same string in YAML.
bool needs_quotes(std::string_view text) {
  if (text.empty()) return true;
  for (char c : text) {
    if (std::string_view(":[]{},#&*!|>'\"%@` \t").find(c) != std::string_view::npos) return true;
  }
  return parse_bool(text).has_value() || text == "null" || text == "~";
}

std::string yaml_scalar(std::string_view text) {
  if (!needs_quotes(text)) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string bound_text(const KeyDef& key, std::int64_t bound) {
  return key.type == KeyType::size ? format_size(static_cast<std::uint64_t>(bound)) : std::to_string(bound);
}

std::string range_text(const KeyDef& key) {
  if (key.max == unbounded) return ">= " + bound_text(key, key.min);
  return "between " + bound_text(key, key.min) + " and " + bound_text(key, key.max);
}

std::string choices_text(const KeyDef& key, std::string_view separator) {
  std::string out;
  for (auto choice : key.choices) {
    if (!out.empty()) out += separator;
    out += choice;
  }
  return out;
}

}  // namespace

std::span<const KeyDef> config_keys() {
  static const std::vector<KeyDef> keys = make_keys();
  return keys;
}

const KeyDef* find_key(KeyLevel level, std::string_view name) {
  for (const auto& key : config_keys()) {
    if (key.level == level && key.name == name) return &key;
  }
  return nullptr;
}

std::string level_prefix(KeyLevel level, std::string_view pool_name) {
  switch (level) {
    case KeyLevel::top: return "";
    case KeyLevel::http: return "http.";
    case KeyLevel::pool: return "pools." + std::string(pool_name) + ".";
    case KeyLevel::access_log: return "access_log.";
    case KeyLevel::admin: return "admin.";
  }
  return "";
}

std::string expected_text(const KeyDef& key) {
  switch (key.type) {
    case KeyType::boolean: return "true or false";
    case KeyType::integer: return "an integer " + range_text(key);
    case KeyType::size: return "a size in bytes " + range_text(key) + " (e.g. 512, 64k, 16m, 1g)";
    case KeyType::seconds:
      return std::string("a number of seconds ") + (key.zero_allowed ? ">= 0" : "> 0") + " (e.g. 30, 0.5, 500ms, 5m)";
    case KeyType::string: return "a string";
    case KeyType::path: return "a file path";
    case KeyType::enumeration: return "one of " + choices_text(key, ", ");
    case KeyType::string_list: return "a list of strings";
    case KeyType::string_map: return "a map of names to strings";
    case KeyType::listen_list: return "an address or a list of addresses";
  }
  return "a value";
}

std::string type_text(const KeyDef& key) {
  switch (key.type) {
    case KeyType::boolean: return "bool";
    case KeyType::integer:
      return key.max == unbounded ? "integer >= " + std::to_string(key.min)
                                  : "integer " + std::to_string(key.min) + ".." + std::to_string(key.max);
    case KeyType::size:
      return key.max == unbounded ? "size >= " + bound_text(key, key.min)
                                  : "size " + bound_text(key, key.min) + ".." + bound_text(key, key.max);
    case KeyType::seconds: return key.zero_allowed ? "seconds >= 0" : "seconds > 0";
    case KeyType::string: return "string";
    case KeyType::path: return "path";
    case KeyType::enumeration: return choices_text(key, " | ");
    case KeyType::string_list: return "list of strings";
    case KeyType::string_map: return "map of strings";
    case KeyType::listen_list: return "address or list of addresses";
  }
  return "";
}

KeyValue parse_scalar(const KeyDef& key, std::string_view text) {
  auto fail = [&]() -> KeyValueError {
    return KeyValueError("expected " + expected_text(key) + ", got " + quote(text));
  };
  switch (key.type) {
    case KeyType::boolean: {
      auto value = parse_bool(text);
      if (!value) throw fail();
      return *value;
    }
    case KeyType::integer: {
      auto value = parse_integer(text);
      if (!value || *value < key.min || *value > key.max) throw fail();
      return *value;
    }
    case KeyType::size: {
      auto value = parse_size(text);
      if (!value || *value < static_cast<std::uint64_t>(key.min) || *value > static_cast<std::uint64_t>(key.max))
        throw fail();
      return static_cast<std::int64_t>(*value);
    }
    case KeyType::seconds: {
      auto value = parse_seconds(text);
      if (!value || *value < 0 || (*value == 0 && !key.zero_allowed)) throw fail();
      return *value;
    }
    case KeyType::string:
    case KeyType::path:
      if (has_control_characters(text))
        throw KeyValueError("expected " + expected_text(key) + " without line breaks or NUL bytes");
      return std::string(text);
    case KeyType::enumeration:
      for (auto choice : key.choices) {
        if (choice == text) return std::string(text);
      }
      throw fail();
    case KeyType::listen_list: return std::vector<std::string>{std::string(text)};
    case KeyType::string_list:
    case KeyType::string_map: throw fail();
  }
  throw fail();
}

std::string format_value(const KeyDef& key, const KeyValue& value) {
  switch (key.type) {
    case KeyType::boolean: return std::get<bool>(value) ? "true" : "false";
    case KeyType::integer: return std::to_string(std::get<std::int64_t>(value));
    case KeyType::size: return format_size(static_cast<std::uint64_t>(std::get<std::int64_t>(value)));
    case KeyType::seconds: return format_seconds(std::get<double>(value));
    case KeyType::string:
    case KeyType::path:
    case KeyType::enumeration: return yaml_scalar(std::get<std::string>(value));
    case KeyType::string_list:
    case KeyType::listen_list: {
      std::string out = "[";
      for (const auto& item : std::get<std::vector<std::string>>(value)) {
        if (out.size() > 1) out += ", ";
        out += yaml_scalar(item);
      }
      return out + "]";
    }
    case KeyType::string_map: {
      std::string out = "{";
      for (const auto& [name, item] : std::get<std::map<std::string, std::string>>(value)) {
        if (out.size() > 1) out += ", ";
        out += yaml_scalar(name) + ": " + yaml_scalar(item);
      }
      return out + "}";
    }
  }
  return "";
}

std::string default_text(const KeyDef& key) {
  if (!key.default_note.empty()) return std::string(key.default_note);
  const GatewayConfig config;
  const PoolSettings pool;
  return format_value(key, key.get(config, pool));
}

}  // namespace pagi::gateway
