// Routes: compiled prefixes with :param segments, most specific first,
// conflicts and unreachable pools rejected.
#include "gateway/config/route_table.hpp"

#include <gtest/gtest.h>

namespace pagi::gateway {
namespace {

struct Matched {
  std::string pool;
  std::string root;
  std::vector<std::string> params;
};

std::optional<Matched> route(const RouteTable& t, const std::vector<std::string>& pools, std::string_view path) {
  std::vector<std::string_view> params;
  auto m = t.match(path, params);
  if (!m) return std::nullopt;
  return Matched{pools[m->pool], std::string(path.substr(0, m->root_length)),
                 std::vector<std::string>(params.begin(), params.end())};
}

TEST(RouteTable, OnePoolWithoutRoutesTakesEverything) {
  const std::vector<std::string> pools{"app"};
  auto t = RouteTable::compile({}, pools);
  auto m = route(t, pools, "/anything/at/all");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pool, "app");
  EXPECT_EQ(m->root, "");
}

TEST(RouteTable, LongestPrefixWinsAndParamsAreCaptured) {
  const std::vector<std::string> pools{"perl", "py", "users"};
  auto t = RouteTable::compile({{"/", "perl"}, {"/api", "py"}, {"/api/users/:id", "users"}}, pools);
  auto m = route(t, pools, "/api/users/42/posts");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pool, "users");
  EXPECT_EQ(m->root, "/api/users/42");
  EXPECT_EQ(m->params, (std::vector<std::string>{"id", "42"}));
  m = route(t, pools, "/api/users");  // the param needs a segment
  EXPECT_EQ(m->pool, "py");
  EXPECT_EQ(m->root, "/api");
  EXPECT_TRUE(m->params.empty());
  m = route(t, pools, "/apis");  // whole segments only
  EXPECT_EQ(m->pool, "perl");
  EXPECT_EQ(m->root, "");
  m = route(t, pools, "/api/");
  EXPECT_EQ(m->pool, "py");
  EXPECT_EQ(m->root, "/api");
}

TEST(RouteTable, ParamIsNeverALiteral) {
  const std::vector<std::string> pools{"a", "b"};
  auto t = RouteTable::compile({{"/", "a"}, {"/t/:tenant", "b"}}, pools);
  EXPECT_EQ(route(t, pools, "/t/:tenant")->params, (std::vector<std::string>{"tenant", ":tenant"}));
  EXPECT_EQ(route(t, pools, "/t/acme")->params, (std::vector<std::string>{"tenant", "acme"}));
  EXPECT_EQ(route(t, pools, "/t/acme")->pool, "b");
}

TEST(RouteTable, LiteralBeatsParamAtTheSameDepth) {
  const std::vector<std::string> pools{"a", "b", "c"};
  auto t = RouteTable::compile({{"/", "a"}, {"/u/:id", "b"}, {"/u/me", "c"}}, pools);
  EXPECT_EQ(route(t, pools, "/u/me")->pool, "c");
  EXPECT_EQ(route(t, pools, "/u/you")->pool, "b");
}

TEST(RouteTable, ConfigErrors) {
  const std::vector<std::string> two{"a", "b"};
  auto rejects = [&](std::vector<RouteConfig> routes, const std::vector<std::string>& pools, const char* needle) {
    try {
      RouteTable::compile(routes, pools);
      ADD_FAILURE() << "accepted; wanted: " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  rejects({}, two, "several pools need routes");
  rejects({{"/", "a"}, {"/x/:id", "b"}, {"/x/:name", "a"}}, two, "conflicts");
  rejects({{"/", "a"}, {"/x", "b"}, {"/x/", "a"}}, two, "conflicts");
  rejects({{"/", "a"}, {"/x", "zzz"}}, two, "no pool named");
  rejects({{"/", "a"}}, two, "\"b\" is unreachable");
  rejects({{"/x", "a"}, {"/y", "b"}}, two, "no route for \"/\"");
  rejects({{"x", "a"}, {"/", "b"}}, two, "starts with '/'");
  rejects({{"/", "a"}, {"/x/:", "b"}}, two, "needs a name");
  rejects({{"/", "a"}, {"/x/:id/:id", "b"}}, two, "appears twice");
}

}  // namespace
}  // namespace pagi::gateway
