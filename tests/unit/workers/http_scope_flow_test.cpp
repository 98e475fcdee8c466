#include "workers/http_scope_flow.hpp"

#include <gtest/gtest.h>

namespace pagi::workers {
namespace {

using Err = ScopeEventError;

TEST(HttpScopeFlow, OrderOfAPlainResponse) {
  HttpScopeFlow f(100, 100, 100);
  EXPECT_EQ(f.on_body(1, true, false), Err::body_before_start);
  EXPECT_EQ(f.on_start(false), Err::ok);
  EXPECT_EQ(f.on_start(false), Err::second_start);
  EXPECT_EQ(f.on_body(5, true, false), Err::ok);
  EXPECT_EQ(f.on_trailers(), Err::trailers_not_announced);
  EXPECT_EQ(f.on_body(5, false, false), Err::ok);
  EXPECT_EQ(f.phase(), ResponsePhase::complete);
  EXPECT_EQ(f.on_body(0, false, false), Err::after_final_body);
  EXPECT_EQ(f.on_flush(), Err::after_final_body);
  EXPECT_EQ(f.on_start(false), Err::after_final_body);
}

TEST(HttpScopeFlow, TrailersOnlyWhenAnnouncedAndAfterTheBody) {
  HttpScopeFlow f(100, 100, 100);
  EXPECT_EQ(f.on_start(true), Err::ok);
  EXPECT_EQ(f.on_trailers(), Err::trailers_not_announced);  // body not finished
  EXPECT_EQ(f.on_body(1, false, false), Err::ok);
  EXPECT_EQ(f.phase(), ResponsePhase::awaiting_trailers);
  EXPECT_EQ(f.on_trailers(), Err::ok);
  EXPECT_EQ(f.on_trailers(), Err::after_final_body);
}

TEST(HttpScopeFlow, FileEndsTheBody) {
  HttpScopeFlow f(10, 100, 100);
  f.on_start(false);
  EXPECT_EQ(f.on_body(0, true, true), Err::ok);  // `more` is ignored for files
  EXPECT_EQ(f.phase(), ResponsePhase::complete);
  EXPECT_EQ(f.response_in_flight(), 0u);
}

TEST(HttpScopeFlow, SendWindowAllowsOneOvershootingEvent) {
  HttpScopeFlow f(10, 100, 100);
  f.on_start(false);
  EXPECT_EQ(f.on_body(25, true, false), Err::ok);  // larger than the window, nothing in flight
  EXPECT_EQ(f.on_body(1, true, false), Err::window_overrun);
  EXPECT_EQ(f.on_response_written(20), 20u);
  EXPECT_EQ(f.on_body(3, true, false), Err::ok);  // 5 in flight < 10
  EXPECT_EQ(f.on_body(9, true, false), Err::ok);  // 8 in flight: this one overshoots
  EXPECT_EQ(f.on_body(1, true, false), Err::window_overrun);
  EXPECT_EQ(f.on_body(0, true, false), Err::ok);  // empty bodies carry nothing
}

TEST(HttpScopeFlow, CreditNeverExceedsWhatIsInFlight) {
  HttpScopeFlow f(10, 100, 100);
  f.on_start(false);
  f.on_body(4, true, false);
  EXPECT_EQ(f.on_response_written(10), 4u);
  EXPECT_EQ(f.on_response_written(10), 0u);
}

TEST(HttpScopeFlow, RequestWindowShrinksAndGrowsUpToReceiveWindow) {
  HttpScopeFlow f(10, 8, 8);
  f.on_request_sent(5);
  EXPECT_EQ(f.request_window(), 3u);
  f.on_request_sent(50);
  EXPECT_EQ(f.request_window(), 0u);
  f.on_request_credit(3);
  EXPECT_EQ(f.request_window(), 3u);
  f.on_request_credit(1000);
  EXPECT_EQ(f.request_window(), 8u);
  EXPECT_EQ(f.credit_grants(), 2u);
}

}  // namespace
}  // namespace pagi::workers
