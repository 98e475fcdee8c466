#include "gateway/edge/settings/edge_config_loader.hpp"

#include <gtest/gtest.h>

namespace pagi::gateway::edge {
namespace {

struct Loaded {
  EdgeSettings settings;
  std::vector<std::string> errors;
};

Loaded load(const std::string& yaml) {
  Loaded out;
  const YAML::Node root = YAML::Load(yaml);
  for (auto it = root.begin(); it != root.end(); ++it) {
    const auto name = it->first.Scalar();
    EXPECT_TRUE(is_edge_key(name)) << name;
    load_edge_key(name, it->first, it->second, "/tmp", out.settings,
                  [&](const YAML::Mark& mark, const std::string& path, const std::string& message) {
                    out.errors.push_back(std::to_string(mark.line + 1) + ": " + path + ": " + message);
                  });
  }
  return out;
}

TEST(EdgeConfig, TrustedProxiesAndAccess) {
  const auto l = load(R"(
trusted_proxies: [10.0.0.0/8, "::1"]
access:
  default: deny
  action: close
  rules:
    - allow: 127.0.0.0/8
    - deny: ["::/0", 0.0.0.0/0]
route_access:
  /admin: {default: deny, rules: [{allow: 10.0.0.0/8}]}
)");
  ASSERT_TRUE(l.errors.empty()) << l.errors.front();
  EXPECT_EQ(l.settings.trusted_proxies.size(), 2u);
  EXPECT_TRUE(l.settings.access.configured);
  EXPECT_EQ(l.settings.access.default_verdict, Verdict::deny);
  EXPECT_EQ(l.settings.access.action, DenyAction::close);
  ASSERT_EQ(l.settings.access.rules.size(), 3u);
  EXPECT_EQ(l.settings.access.rules[1].verdict, Verdict::deny);
  EXPECT_EQ(l.settings.route_access.count("/admin"), 1u);
}

TEST(EdgeConfig, MalformedCidrAnywhereIsAnErrorWithItsLine) {
  for (const char* yaml :
       {"trusted_proxies: [10.0.0.0/8, 10.0.0.0/33]\n", "access:\n  rules:\n    - allow: 300.1.1.1\n",
        "listeners:\n  \"127.0.0.1:0\":\n    access:\n      rules: [{deny: \"2001:db8::/200\"}]\n",
        "maintenance:\n  bypass: [garbage]\n", "route_access:\n  /a: {rules: [{allow: 10.0.0.1/8}]}\n"}) {
    const auto l = load(yaml);
    ASSERT_EQ(l.errors.size(), 1u) << yaml;
    EXPECT_NE(l.errors[0].find("\""), std::string::npos) << l.errors[0];
  }
  const auto l = load("access:\n  rules:\n    - allow: 127.0.0.1\n    - deny: 10.0.0.0/40\n");
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0].substr(0, 3), "4: ") << l.errors[0];
}

TEST(EdgeConfig, BadShapesAreErrors) {
  EXPECT_FALSE(load("access:\n  rules:\n    - permit: 10.0.0.0/8\n").errors.empty());
  EXPECT_FALSE(load("access:\n  default: maybe\n").errors.empty());
  EXPECT_FALSE(load("access:\n  colour: red\n").errors.empty());
  EXPECT_FALSE(load("rate_limits:\n  a: {key: client}\n").errors.empty());  // no rate
  EXPECT_FALSE(load("rate_limits:\n  a: {rate: fast}\n").errors.empty());
  EXPECT_FALSE(load("rate_limits:\n  a: {rate: 1/s, key: ip}\n").errors.empty());
  EXPECT_FALSE(load("static:\n  /s: /nonexistent-dir-for-test\n").errors.empty());
}

TEST(EdgeConfig, RateLimits) {
  const auto l = load(R"(
rate_limits:
  per_client: {key: client, rate: 600/m, burst: 20}
  per_key: {key: "header:X-Api-Key", rate: 5, burst: 5, max_keys: 1000, path: /api}
)");
  ASSERT_TRUE(l.errors.empty()) << l.errors.front();
  ASSERT_EQ(l.settings.rate_limits.size(), 2u);
  EXPECT_DOUBLE_EQ(l.settings.rate_limits[0].rate, 10);
  EXPECT_DOUBLE_EQ(l.settings.rate_limits[0].burst, 20);
  EXPECT_EQ(l.settings.rate_limits[1].key, RateKey::header);
  EXPECT_EQ(l.settings.rate_limits[1].header, "x-api-key");
  EXPECT_EQ(l.settings.rate_limits[1].path_prefix, "/api");
}

TEST(EdgeConfig, StaticAndMaintenance) {
  const auto l = load(R"(
static:
  /assets/: /tmp
  /dl: {root: /tmp, symlinks: deny, max_age: 60}
maintenance:
  enabled: true
  close_streams: true
  retry_after: 30
  bypass: [10.0.0.0/8]
  exempt_paths: [/health]
)");
  ASSERT_TRUE(l.errors.empty()) << l.errors.front();
  ASSERT_EQ(l.settings.static_mounts.size(), 2u);
  EXPECT_EQ(l.settings.static_mounts[0].prefix, "/assets");
  EXPECT_TRUE(l.settings.maintenance.enabled);
  EXPECT_TRUE(l.settings.maintenance.close_streams);
  EXPECT_EQ(l.settings.maintenance.retry_after, 30u);
  EXPECT_EQ(l.settings.maintenance.exempt_paths.size(), 1u);
}

TEST(EdgeConfig, References) {
  EdgeSettings e;
  e.listeners.push_back({"127.0.0.1:9", false, {}});
  EXPECT_NE(check_edge_references(e, {"127.0.0.1:8080"}, {}, {"app"}), "");
  EXPECT_EQ(check_edge_references(e, {"127.0.0.1:9"}, {}, {"app"}), "");
  e.maintenance.pools = {"nope"};
  EXPECT_NE(check_edge_references(e, {"127.0.0.1:9"}, {}, {"app"}), "");
}

}  // namespace
}  // namespace pagi::gateway::edge
