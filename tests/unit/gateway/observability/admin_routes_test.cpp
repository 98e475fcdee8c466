#include <gtest/gtest.h>

#include "gateway/admin/admin_server.hpp"

namespace pagi::gateway::admin {
namespace {

class FakeBackend : public AdminBackend {
 public:
  std::string why;
  std::string last_pool, last_workers;
  int reloads = 0, drains = 0;
  std::string not_ready_reason() override { return why; }
  std::string metrics_text() override { return "pagi_ready 1\n"; }
  std::string status_json() override { return "{}"; }
  AdminResponse reload() override {
    ++reloads;
    return {202, "text/plain", "ok\n"};
  }
  AdminResponse drain() override {
    ++drains;
    return {200, "text/plain", "draining\n"};
  }
  AdminResponse scale(std::string_view pool, std::string_view workers) override {
    last_pool = pool;
    last_workers = workers;
    return {200, "text/plain", "scaled\n"};
  }
};

TEST(AdminRoutes, HealthEndpoints) {
  FakeBackend b;
  EXPECT_EQ(handle_admin_request(b, "GET", "/livez").status, 200);
  EXPECT_EQ(handle_admin_request(b, "GET", "/readyz").status, 200);
  b.why = "starting";
  const auto r = handle_admin_request(b, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("starting"), std::string::npos);
  EXPECT_EQ(handle_admin_request(b, "GET", "/livez").status, 200);  // alive while not ready
}

TEST(AdminRoutes, MetricsAndStatusContentTypes) {
  FakeBackend b;
  EXPECT_EQ(handle_admin_request(b, "GET", "/metrics").content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(handle_admin_request(b, "GET", "/status").content_type, "application/json");
}

TEST(AdminRoutes, ActionsArePostOnly) {
  FakeBackend b;
  EXPECT_EQ(handle_admin_request(b, "GET", "/reload").status, 405);
  EXPECT_EQ(handle_admin_request(b, "GET", "/drain").status, 405);
  EXPECT_EQ(handle_admin_request(b, "GET", "/scale?pool=app&workers=3").status, 405);
  EXPECT_EQ(handle_admin_request(b, "POST", "/metrics").status, 405);
  EXPECT_EQ(b.reloads + b.drains, 0);
  EXPECT_EQ(handle_admin_request(b, "POST", "/reload").status, 202);
  EXPECT_EQ(handle_admin_request(b, "POST", "/drain").status, 200);
  EXPECT_EQ(handle_admin_request(b, "POST", "/scale?workers=3&pool=app").status, 200);
  EXPECT_EQ(b.last_pool, "app");
  EXPECT_EQ(b.last_workers, "3");
  EXPECT_EQ(handle_admin_request(b, "GET", "/nope").status, 404);
}

}  // namespace
}  // namespace pagi::gateway::admin
