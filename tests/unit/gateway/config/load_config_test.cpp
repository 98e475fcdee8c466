#include "gateway/config/load_config.hpp"

#include <gtest/gtest.h>

#include "gateway/config/app_kind.hpp"
#include "gateway/config/key_schema.hpp"
#include "gateway/config/reference_doc.hpp"
#include "temp_dir.hpp"

namespace pagi::gateway {
namespace {

using test::TempDir;

class LoadConfig : public ::testing::Test {
 protected:
  void SetUp() override { dir.write("app.pl", "sub { }\n"); }

  GatewayConfig parse(const std::string& yaml) { return parse_config_text(yaml, "gateway.yaml", dir.path()); }

  // The error message for `yaml`, or a failure when it loads.
  std::string error_of(const std::string& yaml) {
    try {
      parse(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "loaded without error:\n" << yaml;
    return "";
  }

  std::string pool_yaml(const std::string& lines) { return "pools:\n  app:\n    app: app.pl\n" + lines; }

  TempDir dir;
};

TEST_F(LoadConfig, EmptyFileGivesTheStructDefaults) {
  GatewayConfig loaded = parse("");
  const GatewayConfig defaults;
  const workers::PoolSettings pool_defaults;
  for (const auto& key : config_keys()) {
    EXPECT_EQ(key.get(loaded, pool_defaults), key.get(defaults, pool_defaults)) << key.name;
  }
  ASSERT_EQ(loaded.listen.size(), 1u);
  EXPECT_EQ(loaded.listen[0].text(), "127.0.0.1:8080");
  EXPECT_TRUE(loaded.pools.empty());
  EXPECT_EQ(loaded.source, "gateway.yaml");
}

TEST_F(LoadConfig, PoolKeysDefaultToTheStruct) {
  GatewayConfig loaded = parse(pool_yaml(""));
  ASSERT_EQ(loaded.pools.size(), 1u);
  const auto& pool = loaded.pools[0];
  const workers::PoolSettings defaults;
  const GatewayConfig config;
  for (const auto& key : config_keys()) {
    if (key.level != KeyLevel::pool || key.name == "app") continue;
    EXPECT_EQ(key.get(config, pool), key.get(config, defaults)) << key.name;
  }
  EXPECT_EQ(pool.name, "app");
  EXPECT_EQ(pool.app, (dir.path() / "app.pl").string());
}

TEST_F(LoadConfig, EveryKeyTypeParses) {
  dir.write("sub/other.pl", "sub { }\n");
  GatewayConfig c = parse(
      "listen: [127.0.0.1:9000, \"[::1]:9001\", unix:/tmp/p.sock, unix:rel.sock]\n"
      "log_level: debug\n"
      "http:\n"
      "  max_request_line: 4k\n"
      "  max_header_bytes: 64k\n"
      "  max_headers: 50\n"
      "  max_body_bytes: 0\n"
      "  max_connections: 7\n"
      "  max_pipelined: 2\n"
      "  header_timeout: 500ms\n"
      "  keepalive_timeout: 2m\n"
      "  request_timeout: 0\n"
      "  write_timeout: 1.5\n"
      "  body_timeout: 45s\n"
      "  shutdown_timeout: 0\n"
      "  server_header: pagi-gateway\n"
      "pools:\n"
      "  web_1:\n"
      "    app: sub/other.pl\n"
      "    command: [perl, worker.pl, --flag]\n"
      "    env: { KEY: value, OTHER: \"two words\" }\n"
      "    workers: 3\n"
      "    concurrency: 10\n"
      "    lifespan: off\n"
      "    queue_size: 0\n"
      "    queue_timeout: 5\n"
      "    startup_timeout: 1m\n"
      "    shutdown_timeout: 10\n"
      "    restart_delay: 250ms\n"
      "    restart_delay_max: 5\n"
      "    crash_loop_threshold: 3\n"
      "    send_window: 1m\n"
      "    receive_window: 128k\n"
      "    max_message_bytes: 1g\n"
      "    heartbeat_interval: 0\n");
  ASSERT_EQ(c.listen.size(), 4u);
  EXPECT_EQ(c.listen[0].text(), "127.0.0.1:9000");
  EXPECT_EQ(c.listen[1].text(), "[::1]:9001");
  EXPECT_EQ(c.listen[2].text(), "unix:/tmp/p.sock");
  EXPECT_EQ(c.listen[3].path, (dir.path() / "rel.sock").string());
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.http.max_request_line, 4096u);
  EXPECT_EQ(c.http.max_header_bytes, 65536u);
  EXPECT_EQ(c.http.max_headers, 50u);
  EXPECT_EQ(c.http.max_body_bytes, 0u);
  EXPECT_EQ(c.http.max_connections, 7u);
  EXPECT_EQ(c.http.max_pipelined, 2u);
  EXPECT_DOUBLE_EQ(c.http.header_timeout.count(), 0.5);
  EXPECT_DOUBLE_EQ(c.http.keepalive_timeout.count(), 120);
  EXPECT_DOUBLE_EQ(c.http.request_timeout.count(), 0);
  EXPECT_DOUBLE_EQ(c.http.write_timeout.count(), 1.5);
  EXPECT_DOUBLE_EQ(c.http.body_timeout.count(), 45);
  EXPECT_DOUBLE_EQ(c.http.shutdown_timeout.count(), 0);
  EXPECT_EQ(c.http.server_header, "pagi-gateway");
  ASSERT_EQ(c.pools.size(), 1u);
  const auto& p = c.pools[0];
  EXPECT_EQ(p.name, "web_1");
  EXPECT_EQ(p.app, (dir.path() / "sub/other.pl").string());
  EXPECT_EQ(p.command, (std::vector<std::string>{"perl", "worker.pl", "--flag"}));
  EXPECT_EQ(p.env, (std::map<std::string, std::string>{{"KEY", "value"}, {"OTHER", "two words"}}));
  EXPECT_EQ(p.workers, 3);
  EXPECT_EQ(p.concurrency, 10);
  EXPECT_EQ(p.lifespan, wire::LifespanMode::OFF);
  EXPECT_EQ(p.queue_size, 0u);
  EXPECT_DOUBLE_EQ(p.queue_timeout.count(), 5);
  EXPECT_DOUBLE_EQ(p.startup_timeout.count(), 60);
  EXPECT_DOUBLE_EQ(p.shutdown_timeout.count(), 10);
  EXPECT_DOUBLE_EQ(p.restart_delay.count(), 0.25);
  EXPECT_DOUBLE_EQ(p.restart_delay_max.count(), 5);
  EXPECT_EQ(p.crash_loop_threshold, 3);
  EXPECT_EQ(p.send_window, 1024u * 1024);
  EXPECT_EQ(p.receive_window, 128u * 1024);
  EXPECT_EQ(p.max_message_bytes, 1024u * 1024 * 1024);
  EXPECT_DOUBLE_EQ(p.heartbeat_interval.count(), 0);
}

TEST_F(LoadConfig, ListenMayBeOneStringAndLifespanOn) {
  GatewayConfig c = parse("listen: unix:/tmp/one.sock\n" + pool_yaml("    lifespan: on\n"));
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].kind, ListenAddress::Kind::unix_socket);
  EXPECT_EQ(c.pools[0].lifespan, wire::LifespanMode::ON);
}

TEST_F(LoadConfig, BoolScalarsParse) {
  // No key is a bool yet; the type still has to work for the next one.
  KeyDef key;
  key.name = "flag";
  key.type = KeyType::boolean;
  EXPECT_EQ(parse_scalar(key, "yes"), KeyValue(true));
  EXPECT_EQ(parse_scalar(key, "false"), KeyValue(false));
  EXPECT_THROW(parse_scalar(key, "maybe"), KeyValueError);
}

TEST_F(LoadConfig, WrongTypeNamesFileLineColumnAndKey) {
  EXPECT_EQ(error_of(pool_yaml("    workers: two\n")),
            "gateway.yaml:4:14: pools.app.workers: expected an integer between 1 and 4096, got \"two\"");
}

TEST_F(LoadConfig, OutOfRangeValues) {
  EXPECT_EQ(error_of(pool_yaml("    workers: 0\n")),
            "gateway.yaml:4:14: pools.app.workers: expected an integer between 1 and 4096, got \"0\"");
  EXPECT_EQ(error_of("http:\n  keepalive_timeout: -1\n"),
            "gateway.yaml:2:22: http.keepalive_timeout: expected a number of seconds > 0 (e.g. 30, 0.5, 500ms, 5m), "
            "got \"-1\"");
  EXPECT_EQ(
      error_of("http:\n  max_header_bytes: 0\n"),
      "gateway.yaml:2:21: http.max_header_bytes: expected a size in bytes >= 1 (e.g. 512, 64k, 16m, 1g), got \"0\"");
  EXPECT_NE(error_of(pool_yaml("    send_window: 5g\n"))
                .find("pools.app.send_window: expected a size in bytes between 1k and 4294967295"),
            std::string::npos);
  EXPECT_NE(error_of(pool_yaml("    lifespan: sometimes\n")).find("expected one of auto, on, off, got \"sometimes\""),
            std::string::npos);
  EXPECT_NE(error_of("log_level: loud\n").find("gateway.yaml:1:12: log_level: expected one of trace, debug"),
            std::string::npos);
  EXPECT_NE(
      error_of(pool_yaml("    queue_timeout: 0\n")).find("pools.app.queue_timeout: expected a number of seconds > 0"),
      std::string::npos);
}

TEST_F(LoadConfig, WrongShapes) {
  EXPECT_EQ(error_of(pool_yaml("    command: perl worker.pl\n")),
            "gateway.yaml:4:14: pools.app.command: expected a list of strings, got \"perl worker.pl\"");
  EXPECT_EQ(error_of(pool_yaml("    env: [A, B]\n")),
            "gateway.yaml:4:10: pools.app.env: expected a map of names to strings, got a list");
  EXPECT_EQ(error_of(pool_yaml("    workers: [1]\n")),
            "gateway.yaml:4:14: pools.app.workers: expected an integer between 1 and 4096, got a list");
  EXPECT_NE(error_of(pool_yaml("    workers:\n")).find("gateway.yaml:4:5: pools.app.workers: expected an integer"),
            std::string::npos);
  EXPECT_EQ(error_of("http: 5\n"), "gateway.yaml:1:7: http: expected a map of HTTP settings, got \"5\"");
  EXPECT_EQ(error_of("pools: [a]\n"),
            "gateway.yaml:1:8: pools: expected a map of pool names to pool settings, got a list");
  EXPECT_EQ(error_of("- a\n- b\n"), "gateway.yaml:1:1: expected a map of settings at the top level, got a list");
  EXPECT_NE(error_of("listen: []\n").find("gateway.yaml:1:9: listen: expected at least one address"),
            std::string::npos);
}

TEST_F(LoadConfig, ImpossibleStrings) {
  EXPECT_EQ(error_of("http:\n  server_header: \"a\\r\\nX-Injected: 1\"\n"),
            "gateway.yaml:2:18: http.server_header: expected a string without line breaks or NUL bytes");
  EXPECT_EQ(error_of(pool_yaml("    env: { \"A=B\": x }\n")),
            "gateway.yaml:4:10: pools.app.env: \"A=B\" is not an environment variable name (empty or holds '=')");
  EXPECT_EQ(error_of(pool_yaml("    command: [\"\", x]\n")),
            "gateway.yaml:4:14: pools.app.command: the program (first item) cannot be empty");
  // Line breaks are legal in environment values (certificates, for one).
  EXPECT_EQ(parse(pool_yaml("    env: { PEM: \"a\\nb\" }\n")).pools[0].env.at("PEM"), "a\nb");
}

TEST_F(LoadConfig, BadListenAddress) {
  EXPECT_EQ(error_of("listen: [127.0.0.1:80, \"localhost:99999\"]\n"),
            "gateway.yaml:1:9: listen: bad listen address \"localhost:99999\": port must be a number from 0 to 65535");
  EXPECT_EQ(error_of("listen: [\":80\", 0.0.0.0:80]\n"), "gateway.yaml:1:9: listen: \"0.0.0.0:80\" is listed twice");
}

TEST_F(LoadConfig, AppMustExistAndBeSupported) {
  EXPECT_EQ(error_of("pools:\n  app:\n    app: missing.pl\n"),
            "gateway.yaml:3:10: pools.app.app: app \"missing.pl\" not found (looked for " +
                (dir.path() / "missing.pl").string() + ")");
  dir.write("app.py", "");
  EXPECT_EQ(error_of("pools:\n  app:\n    app: app.py\n"),
            "gateway.yaml:3:10: pools.app.app: unsupported app \"app.py\": supported kinds are " +
                std::string(supported_app_kinds()));
  std::filesystem::create_directories(dir.path() / "dir.pl");
  EXPECT_NE(error_of("pools:\n  app:\n    app: dir.pl\n").find("is not a file"), std::string::npos);
  EXPECT_EQ(error_of("pools:\n  app:\n    app: missing.py:app\n"),
            "gateway.yaml:3:10: pools.app.app: app \"missing.py:app\" not found (looked for " +
                (dir.path() / "missing.py").string() + ")");
  EXPECT_NE(error_of("pools:\n  app:\n    app: \"my-module:app\"\n").find("unsupported app"), std::string::npos);
  EXPECT_NE(error_of("pools:\n  app:\n    app: \"mod:\"\n").find("unsupported app"), std::string::npos);
  EXPECT_NE(error_of("pools:\n  app:\n    app: \"mod:1x\"\n").find("unsupported app"), std::string::npos);
}

TEST_F(LoadConfig, PythonModuleAppImportsFromTheConfigDirectory) {
  GatewayConfig c =
      parse("pools:\n  app:\n    app: mysite.asgi:application\n    interface: asgi\n    python: /usr/bin/python3\n");
  const auto& p = c.pools[0];
  EXPECT_EQ(p.app, "mysite.asgi:application");
  EXPECT_EQ(p.app_dir, dir.path().lexically_normal().string());
  EXPECT_EQ(p.interface, "asgi");
  EXPECT_EQ(p.python, "/usr/bin/python3");

  std::filesystem::create_directories(dir.path() / "src");
  // app_dir wins whether it comes before or after app.
  for (const char* yaml :
       {"pools:\n  app:\n    app_dir: src\n    app: m:app\n", "pools:\n  app:\n    app: m:app\n    app_dir: src\n"}) {
    EXPECT_EQ(parse(yaml).pools[0].app_dir, (dir.path() / "src").string()) << yaml;
  }
  EXPECT_NE(error_of("pools:\n  app:\n    app: m:app\n    app_dir: nowhere\n")
                .find("pools.app.app_dir: app_dir \"nowhere\" is not a directory"),
            std::string::npos);
  EXPECT_NE(
      error_of("pools:\n  app:\n    app: m:app\n    interface: rack\n").find("expected one of auto, asgi, wsgi, pagi"),
      std::string::npos);
  EXPECT_NE(error_of("pools:\n  app:\n    app: m:app\n    python: \"\"\n").find("pools.app.python:"),
            std::string::npos);
}

TEST_F(LoadConfig, InterfaceMustFitTheAppsLanguage) {
  // Checked when the whole pool is known: the keys may come in any order.
  auto validation_error = [&](const std::string& yaml) -> std::string {
    try {
      validate_config(parse(yaml));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(
      validation_error("pools:\n  app:\n    interface: psgi\n    app: m:app\n"),
      "gateway.yaml: pools.app.interface: interface \"psgi\" is for Perl apps, but app \"m:app\" is a Python app");
  EXPECT_EQ(validation_error("pools:\n  app:\n    app: app.pl\n    interface: wsgi\n"),
            "gateway.yaml: pools.app.interface: interface \"wsgi\" is for Python apps, but app \"" +
                (dir.path() / "app.pl").string() + "\" is a Perl app");
  EXPECT_EQ(validation_error("pools:\n  app:\n    app: m:app\n    interface: wsgi\n"), "");
  EXPECT_EQ(validation_error("pools:\n  app:\n    app: app.pl\n    interface: pagi\n"), "");
}

TEST_F(LoadConfig, PythonFileAppResolvesThePathAndKeepsTheAttribute) {
  dir.write("web/main.py", "app = None\n");
  GatewayConfig c = parse("pools:\n  app:\n    app: web/main.py:api.app\n");
  EXPECT_EQ(c.pools[0].app, (dir.path() / "web/main.py").string() + ":api.app");
  EXPECT_EQ(c.pools[0].interface, "auto");
  EXPECT_EQ(c.pools[0].python, "python3");
}

TEST_F(LoadConfig, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(error_of("listn: 1.2.3.4:5\n"), "gateway.yaml:1:1: listn: unknown key (did you mean \"listen\"?)");
  EXPECT_EQ(error_of("http:\n  max_header: 1\n"),
            "gateway.yaml:2:3: http.max_header: unknown key (did you mean \"max_headers\"?)");
  EXPECT_EQ(error_of(pool_yaml("    bogus_setting: 1\n")), "gateway.yaml:4:5: pools.app.bogus_setting: unknown key");
  // A pool key is not an http key and the other way round.
  EXPECT_EQ(error_of("http:\n  workers: 2\n"), "gateway.yaml:2:3: http.workers: unknown key");
  EXPECT_EQ(error_of(pool_yaml("    max_headers: 2\n")), "gateway.yaml:4:5: pools.app.max_headers: unknown key");
}

TEST_F(LoadConfig, DuplicateKeys) {
  EXPECT_EQ(error_of("log_level: info\nlog_level: debug\n"), "gateway.yaml:2:1: log_level: duplicate key");
}

TEST_F(LoadConfig, SeveralPoolsNeedRoutes) {
  const GatewayConfig two = parse("pools:\n  a:\n    app: app.pl\n  b:\n    app: app.pl\n");
  ASSERT_EQ(two.pools.size(), 2u);
  try {
    validate_config(two);
    ADD_FAILURE() << "several pools without routes accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("several pools need routes"), std::string::npos) << e.what();
  }
  const GatewayConfig routed =
      parse("pools:\n  a:\n    app: app.pl\n  b:\n    app: app.pl\nroutes:\n  /: a\n  /api/:version: b\n");
  ASSERT_EQ(routed.routes.size(), 2u);
  EXPECT_EQ(routed.routes[1].prefix, "/api/:version");
  EXPECT_EQ(routed.routes[1].pool, "b");
  EXPECT_NO_THROW(validate_config(routed));
  EXPECT_EQ(error_of("routes: [a]\n"),
            "gateway.yaml:1:9: routes: expected a map of path prefixes to pool names, got a list");
}

TEST_F(LoadConfig, BadPoolName) {
  EXPECT_EQ(error_of("pools:\n  \"my pool\":\n    app: app.pl\n"),
            "gateway.yaml:2:3: pools.my pool: a pool name is letters, digits, '_' and '-'");
}

TEST_F(LoadConfig, RestartDelayMaxBelowRestartDelay) {
  EXPECT_EQ(error_of(pool_yaml("    restart_delay: 10\n    restart_delay_max: 1\n")),
            "gateway.yaml:5:24: pools.app.restart_delay_max: must be at least restart_delay");
}

TEST_F(LoadConfig, YamlSyntaxErrorHasAPosition) {
  std::string message = error_of("http:\n  max_headers: [1, 2\n");
  EXPECT_EQ(message.rfind("gateway.yaml:", 0), 0u) << message;
  EXPECT_NE(message.find(":3:"), std::string::npos) << message;
}

TEST_F(LoadConfig, EveryErrorIsReportedAndNothingIsReturned) {
  std::string message = error_of("log_level: loud\nhttp:\n  max_headers: 0\n" + pool_yaml("    workers: x\n"));
  EXPECT_NE(message.find("gateway.yaml:1:12: log_level:"), std::string::npos) << message;
  EXPECT_NE(message.find("\ngateway.yaml:3:16: http.max_headers:"), std::string::npos) << message;
  EXPECT_NE(message.find("\ngateway.yaml:7:14: pools.app.workers:"), std::string::npos) << message;
}

TEST_F(LoadConfig, ReadsAFileAndResolvesAppAgainstItsDirectory) {
  dir.write("apps/hello.pl", "sub { }\n");
  std::string path = dir.write("conf/gateway.yaml", "pools:\n  app:\n    app: ../apps/hello.pl\n");
  GatewayConfig c = load_config(path);
  EXPECT_EQ(c.source, path);
  ASSERT_EQ(c.pools.size(), 1u);
  EXPECT_EQ(c.pools[0].app, (dir.path() / "apps/hello.pl").string());
}

TEST_F(LoadConfig, FileErrorsNameTheFile) {
  std::string path = dir.write("gateway.yaml", "pools:\n  app:\n    workers: two\n");
  try {
    read_config_file(path);
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":3:14: pools.app.workers: expected", 0), 0u) << e.what();
  }
  EXPECT_THROW(read_config_file((dir.path() / "absent.yaml").string()), ConfigError);
  EXPECT_THROW(read_config_file(dir.path().string()), ConfigError);
}

TEST_F(LoadConfig, ValidateNeedsAnApp) {
  std::string path = dir.write("gateway.yaml", "log_level: warn\n");
  try {
    load_config(path);
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no pool defined"), std::string::npos) << e.what();
  }
  GatewayConfig commandless;
  commandless.pools.emplace_back();
  EXPECT_THROW(validate_config(commandless), ConfigError);
  commandless.pools[0].command = {"perl", "w.pl"};
  EXPECT_NO_THROW(validate_config(commandless));
}

TEST_F(LoadConfig, TheGeneratedExampleLoadsAsTheDefaults) {
  dir.write("examples/hello/app.pl", "sub { }\n");
  GatewayConfig c = parse(example_config_yaml());
  ASSERT_EQ(c.pools.size(), 1u);
  const GatewayConfig defaults;
  const workers::PoolSettings pool_defaults;
  for (const auto& key : config_keys()) {
    if (key.name == "app") continue;
    EXPECT_EQ(key.get(c, c.pools[0]), key.get(defaults, pool_defaults)) << key.name;
  }
}

TEST_F(LoadConfig, FormattedDefaultsReadBack) {
  // format_value's text must parse to the same value: the docs show it.
  const GatewayConfig defaults;
  const workers::PoolSettings pool;
  for (const auto& key : config_keys()) {
    if (key.type == KeyType::string_list || key.type == KeyType::string_map || key.type == KeyType::listen_list ||
        key.type == KeyType::path || key.type == KeyType::string) {
      continue;
    }
    KeyValue value = key.get(defaults, pool);
    EXPECT_EQ(parse_scalar(key, format_value(key, value)), value) << key.name;
  }
}

TEST_F(LoadConfig, SummaryNamesListenPoolAndSource) {
  GatewayConfig c = parse("listen: \":9000\"\n" + pool_yaml("    workers: 1\n"));
  std::string summary = config_summary(c);
  EXPECT_NE(summary.find("listen 0.0.0.0:9000"), std::string::npos) << summary;
  EXPECT_NE(summary.find("pool app: " + (dir.path() / "app.pl").string() + ", 1 worker,"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("from gateway.yaml"), std::string::npos) << summary;
}

TEST_F(LoadConfig, AttachPoolNeedsNoAppAndExcludesOne) {
  GatewayConfig c = parse(
      "pools:\n  web:\n    attach: run/web.sock\n    attach_mode: \"0600\"\n"
      "    attach_owner: nobody\n    attach_max_workers: 8\n");
  ASSERT_EQ(c.pools.size(), 1u);
  EXPECT_EQ(c.pools[0].attach, (dir.path() / "run/web.sock").string());
  EXPECT_EQ(c.pools[0].attach_mode, 0600u);
  EXPECT_EQ(c.pools[0].attach_owner, "nobody");
  EXPECT_EQ(c.pools[0].attach_max_workers, 8);
  EXPECT_NO_THROW(validate_config(c));
  EXPECT_NE(error_of("pools:\n  web:\n    attach: a.sock\n    attach_mode: \"rw\"\n").find("octal"), std::string::npos);
  GatewayConfig both = parse("pools:\n  web:\n    attach: a.sock\n    app: app.pl\n");
  EXPECT_THROW(validate_config(both), ConfigError);
  GatewayConfig shared = parse(
      "pools:\n  a:\n    attach: x.sock\n  b:\n    attach: x.sock\n"
      "routes:\n  \"/\": a\n  \"/b\": b\n");
  EXPECT_THROW(validate_config(shared), ConfigError);
}

}  // namespace
}  // namespace pagi::gateway
