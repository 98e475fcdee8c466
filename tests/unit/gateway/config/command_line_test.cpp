#include "gateway/config/command_line.hpp"

#include <gtest/gtest.h>

#include "gateway/config/app_kind.hpp"
#include "gateway/config/key_schema.hpp"
#include "temp_dir.hpp"

namespace pagi::gateway {
namespace {

using test::ScopedWorkingDir;
using test::TempDir;

CommandLine parse(std::vector<std::string> args) { return parse_command_line(args); }

std::string error_of(std::vector<std::string> args) {
  try {
    parse(args);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

class CommandLineTest : public ::testing::Test {
 protected:
  void SetUp() override { app = dir.write("app.pl", "sub { }\n"); }
  TempDir dir;
  std::string app;
};

TEST_F(CommandLineTest, NothingGivenTellsWhatToPass) {
  std::string message = error_of({});
  EXPECT_NE(message.find("no app given"), std::string::npos) << message;
  EXPECT_NE(message.find("app.pl"), std::string::npos) << message;
  EXPECT_NE(message.find("--config"), std::string::npos) << message;
}

TEST_F(CommandLineTest, AppAloneRunsWithDefaults) {
  CommandLine cl = parse({app});
  EXPECT_EQ(cl.action, CommandAction::run);
  ASSERT_EQ(cl.config.pools.size(), 1u);
  EXPECT_EQ(cl.config.pools[0].name, "app");
  EXPECT_EQ(cl.config.pools[0].app, app);
  EXPECT_EQ(cl.config.pools[0].workers, workers::PoolSettings{}.workers);
  ASSERT_EQ(cl.config.listen.size(), 1u);
  EXPECT_EQ(cl.config.listen[0].text(), "127.0.0.1:8080");
  EXPECT_EQ(cl.config.source, "");
  EXPECT_NE(cl.message.find("pool app: " + app), std::string::npos) << cl.message;
}

TEST_F(CommandLineTest, RelativeAppStartsAtTheWorkingDirectory) {
  ScopedWorkingDir cwd(dir.path());
  CommandLine cl = parse({"app.pl"});
  EXPECT_EQ(cl.config.pools[0].app, app);
  CommandLine unix_listen = parse({"--listen", "unix:s.sock", "app.pl"});
  EXPECT_EQ(unix_listen.config.listen[0].path, (dir.path() / "s.sock").string());
}

TEST_F(CommandLineTest, UnsupportedAppNamesTheSupportedKinds) {
  dir.write("app.py", "");
  EXPECT_EQ(error_of({(dir.path() / "app.py").string()}), "APP: unsupported app \"" + (dir.path() / "app.py").string() +
                                                              "\": supported kinds are " +
                                                              std::string(supported_app_kinds()));
  EXPECT_NE(error_of({(dir.path() / "nope.pl").string()}).find("APP: app"), std::string::npos);
}

TEST_F(CommandLineTest, PythonAppImportsFromTheWorkingDirectoryOrAppDir) {
  ScopedWorkingDir cwd(dir.path());
  std::filesystem::create_directories(dir.path() / "conf");
  std::filesystem::create_directories(dir.path() / "src");
  CommandLine plain = parse({"main:app", "--interface", "wsgi"});
  EXPECT_EQ(plain.config.pools[0].app, "main:app");
  EXPECT_EQ(plain.config.pools[0].app_dir, dir.path().lexically_normal().string());
  EXPECT_EQ(plain.config.pools[0].interface, "wsgi");

  CommandLine with_dir = parse({"--app-dir", "src", "main:app"});
  EXPECT_EQ(with_dir.config.pools[0].app_dir, (dir.path() / "src").string());

  // The file's app imports from the file's directory; APP given here, from here.
  std::string config = dir.write("conf/gateway.yaml", "pools:\n  web:\n    app: site:app\n");
  EXPECT_EQ(parse({"--config", config}).config.pools[0].app_dir, (dir.path() / "conf").string());
  EXPECT_EQ(parse({"--config", config, "other:app"}).config.pools[0].app_dir, dir.path().lexically_normal().string());
  EXPECT_EQ(parse({"--config", config, "--interface", "asgi"}).config.pools[0].interface, "asgi");

  EXPECT_NE(error_of({"main:app", "--interface", "rack"}).find("--interface: expected one of auto, asgi, wsgi, pagi"),
            std::string::npos);
  EXPECT_NE(error_of({"main:app", "--app-dir", "missing"}).find("--app-dir: app_dir \"missing\" is not a directory"),
            std::string::npos);
}

TEST_F(CommandLineTest, FlagsOverrideTheFile) {
  dir.write("file_app.pl", "sub { }\n");
  std::string config = dir.write("gateway.yaml",
                                 "listen: [127.0.0.1:9000, 127.0.0.1:9001]\n"
                                 "log_level: warn\n"
                                 "http: { max_headers: 20 }\n"
                                 "pools:\n"
                                 "  web:\n"
                                 "    app: file_app.pl\n"
                                 "    workers: 3\n"
                                 "    concurrency: 4\n"
                                 "    queue_size: 9\n");
  CommandLine from_file = parse({"--config", config});
  ASSERT_EQ(from_file.config.listen.size(), 2u);
  EXPECT_EQ(from_file.config.pools[0].workers, 3);
  EXPECT_EQ(from_file.config.pools[0].app, (dir.path() / "file_app.pl").string());
  EXPECT_EQ(from_file.config.source, config);

  CommandLine cl = parse({"-c", config, "--listen", "[::1]:0", "--listen=unix:/tmp/x.sock", "--workers", "5",
                          "--concurrency=0", "--log-level", "debug", app});
  ASSERT_EQ(cl.config.listen.size(), 2u);
  EXPECT_EQ(cl.config.listen[0].text(), "[::1]:0");
  EXPECT_EQ(cl.config.listen[1].text(), "unix:/tmp/x.sock");
  EXPECT_EQ(cl.config.log_level, "debug");
  ASSERT_EQ(cl.config.pools.size(), 1u);
  const auto& pool = cl.config.pools[0];
  EXPECT_EQ(pool.name, "web");
  EXPECT_EQ(pool.app, app);
  EXPECT_EQ(pool.workers, 5);
  EXPECT_EQ(pool.concurrency, 0);
  EXPECT_EQ(pool.queue_size, 9u);              // untouched by flags
  EXPECT_EQ(cl.config.http.max_headers, 20u);  // untouched by flags
  EXPECT_EQ(cl.options.config_file, config);
}

TEST_F(CommandLineTest, BuildConfigRereadsTheFile) {
  std::string config = dir.write("gateway.yaml", "pools:\n  app:\n    app: app.pl\n    workers: 3\n");
  CommandLine cl = parse({"--config", config, "--concurrency", "7"});
  dir.write("gateway.yaml", "pools:\n  app:\n    app: app.pl\n    workers: 4\n");
  GatewayConfig reloaded = build_config(cl.options);
  EXPECT_EQ(reloaded.pools[0].workers, 4);
  EXPECT_EQ(reloaded.pools[0].concurrency, 7);
}

TEST_F(CommandLineTest, BadFlagValuesNameTheFlag) {
  EXPECT_EQ(error_of({"--workers", "two", app}), "--workers: expected an integer between 1 and 4096, got \"two\"");
  EXPECT_EQ(error_of({"--workers=0", app}), "--workers: expected an integer between 1 and 4096, got \"0\"");
  EXPECT_NE(error_of({"--concurrency", "-1", app}).find("--concurrency: expected an integer"), std::string::npos);
  EXPECT_NE(error_of({"--log-level", "loud", app}).find("--log-level: expected one of trace"), std::string::npos);
  EXPECT_EQ(error_of({"--listen", "nowhere", app}),
            "--listen: bad listen address \"nowhere\": expected host:port, [ipv6]:port or unix:/path");
}

TEST_F(CommandLineTest, MalformedCommandLines) {
  EXPECT_EQ(error_of({"--bogus", app}), "unknown option --bogus (try --help)");
  EXPECT_EQ(error_of({"-x", app}), "unknown option -x (try --help)");
  EXPECT_EQ(error_of({app, "--workers"}), "--workers: missing N");
  EXPECT_EQ(error_of({"--help=yes"}), "--help takes no value");
  EXPECT_NE(error_of({app, app}).find("only one APP"), std::string::npos);
  EXPECT_NE(error_of({"--config", (dir.path() / "absent.yaml").string()}).find("cannot read config file"),
            std::string::npos);
}

TEST_F(CommandLineTest, DoubleDashEndsOptions) {
  std::string dashed = dir.write("-dash.pl", "sub { }\n");
  ScopedWorkingDir cwd(dir.path());
  CommandLine cl = parse({"--", "-dash.pl"});
  EXPECT_EQ(cl.config.pools[0].app, dashed);
}

TEST_F(CommandLineTest, CheckConfig) {
  CommandLine ok = parse({"--check-config", app});
  EXPECT_EQ(ok.action, CommandAction::check_config);
  EXPECT_EQ(ok.message.rfind("configuration OK: listen 127.0.0.1:8080; pool app: " + app, 0), 0u) << ok.message;

  std::string bad = dir.write("gateway.yaml", "pools:\n  app:\n    app: app.pl\n    workers: 0\n");
  std::string message = error_of({"--check-config", "--config", bad});
  EXPECT_EQ(message.rfind(bad + ":4:14: pools.app.workers:", 0), 0u) << message;
}

TEST_F(CommandLineTest, VersionAndHelpNeedNoConfig) {
  CommandLine version = parse({"--version"});
  EXPECT_EQ(version.action, CommandAction::print_version);
  EXPECT_EQ(version.message.rfind("pagi-gateway ", 0), 0u);
  EXPECT_EQ(parse({"-V"}).action, CommandAction::print_version);

  CommandLine help = parse({"--help", "--workers", "zero"});
  EXPECT_EQ(help.action, CommandAction::print_help);
  EXPECT_EQ(parse({"-h"}).action, CommandAction::print_help);
  for (const auto& flag : command_line_flags()) {
    EXPECT_EQ(help.message.find(flag.name) != std::string::npos, !flag.hidden) << flag.name;
  }
  EXPECT_NE(help.message.find("APP"), std::string::npos);

  CommandLine reference = parse({"--print-config-reference"});
  EXPECT_EQ(reference.action, CommandAction::print_config_reference);
  EXPECT_NE(reference.message.find("# Configuration reference"), std::string::npos);
}

TEST_F(CommandLineTest, ArgvEntryPoint) {
  const char* argv[] = {"pagi-gateway", "--workers", "1", app.c_str()};
  CommandLine cl = parse_command_line(4, argv);
  EXPECT_EQ(cl.config.pools[0].workers, 1);
}

}  // namespace
}  // namespace pagi::gateway
