#include "workers/stream_scope_flow.hpp"

#include <gtest/gtest.h>

namespace pagi::workers {
namespace {

using V = FlowVerdict;

TEST(WsScopeFlow, AcceptThenSendCloseThenIgnore) {
  WsScopeFlow f;
  EXPECT_EQ(f.on_send(), V::violation);  // before accept
  f = WsScopeFlow();
  EXPECT_EQ(f.on_keepalive(), V::deliver);
  EXPECT_EQ(f.on_accept(), V::deliver);
  EXPECT_EQ(f.on_accept(), V::violation);
  f = WsScopeFlow();
  f.on_accept();
  EXPECT_EQ(f.on_send(), V::deliver);
  EXPECT_EQ(f.on_denial_start(), V::ignore);  // after accept: ignored (spec)
  EXPECT_EQ(f.on_denial_body(false), V::ignore);
  EXPECT_EQ(f.on_close(), V::deliver);
  EXPECT_EQ(f.phase(), WsPhase::closing);
  EXPECT_EQ(f.on_send(), V::ignore);
  EXPECT_EQ(f.on_close(), V::ignore);
  EXPECT_EQ(f.on_keepalive(), V::ignore);
}

TEST(WsScopeFlow, CloseBeforeAccept) {
  WsScopeFlow f;
  EXPECT_EQ(f.on_close(), V::deliver);
  EXPECT_EQ(f.phase(), WsPhase::closed);
  EXPECT_EQ(f.on_accept(), V::ignore);
}

TEST(WsScopeFlow, Denial) {
  WsScopeFlow f;
  EXPECT_EQ(f.on_denial_body(false), V::violation);
  f = WsScopeFlow();
  EXPECT_EQ(f.on_denial_start(), V::deliver);
  EXPECT_EQ(f.on_denial_start(), V::violation);
  f = WsScopeFlow();
  f.on_denial_start();
  EXPECT_EQ(f.on_send(), V::violation);
  EXPECT_EQ(f.on_accept(), V::violation);
  EXPECT_EQ(f.on_denial_body(true), V::deliver);
  EXPECT_EQ(f.on_denial_body(false), V::deliver);
  EXPECT_EQ(f.phase(), WsPhase::closed);
  EXPECT_FALSE(f.error().empty());
}

TEST(SseScopeFlow, StreamRules) {
  SseScopeFlow f;
  EXPECT_EQ(f.on_event(), V::violation);
  f = SseScopeFlow();
  EXPECT_EQ(f.on_close(), V::violation);
  f = SseScopeFlow();
  EXPECT_EQ(f.on_start(), V::deliver);
  EXPECT_EQ(f.on_start(), V::violation);
  f = SseScopeFlow();
  f.on_start();
  EXPECT_EQ(f.on_event(), V::deliver);
  EXPECT_EQ(f.on_decline(), V::violation);  // first family wins
  EXPECT_EQ(f.on_close(), V::deliver);
  EXPECT_EQ(f.on_close(), V::ignore);     // idempotent
  EXPECT_EQ(f.on_event(), V::violation);  // sends after close raise
}

TEST(SseScopeFlow, DeclineRules) {
  SseScopeFlow f;
  EXPECT_EQ(f.on_decline_body(), V::violation);
  f = SseScopeFlow();
  EXPECT_EQ(f.on_decline(), V::deliver);
  EXPECT_EQ(f.on_decline_body(), V::deliver);
  EXPECT_EQ(f.on_start(), V::violation);
  EXPECT_EQ(f.on_event(), V::violation);
  EXPECT_EQ(f.on_close(), V::violation);
  EXPECT_EQ(f.on_decline(), V::violation);
}

}  // namespace
}  // namespace pagi::workers
