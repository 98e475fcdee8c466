// RequestInput's read room: the head buffer, and larger reads during a body
// only when the window and the body left allow them.
#include "gateway/http1/request_input.hpp"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace pagi::gateway::http1 {
namespace {

HttpSettings settings() {
  HttpSettings s;
  s.max_request_line = 100;
  s.max_header_bytes = 400;  // base buffer: 504 bytes
  return s;
}

void put(RequestInput& in, const std::string& bytes) {
  auto room = in.prepare();
  ASSERT_GE(room.size(), bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  in.commit(bytes.size());
}

TEST(RequestInput, HeadReadsUseTheBaseBuffer) {
  RequestInput in(settings());
  EXPECT_EQ(in.prepare().size(), 504u);
}

TEST(RequestInput, BodyReadsGrowOnlyAfterAFullRead) {
  RequestInput in(settings());
  put(in, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
  ASSERT_EQ(in.next(0).kind, RequestCodec::EventKind::head);
  in.set_body_window(100000);
  // The last read did not fill its room: no growth yet.
  EXPECT_EQ(in.prepare().size(), 504u);
  put(in, std::string(504, 'x'));  // a full read: more may be waiting
  auto ev = in.next(1000000);
  ASSERT_EQ(ev.kind, RequestCodec::EventKind::body);
  EXPECT_EQ(ev.body.size(), 504u);
  EXPECT_EQ(in.prepare().size(), 100000u);
  // Over RequestInput::kBodyReadMax, the window is cut to it.
  in.set_body_window(10 * RequestInput::kBodyReadMax);
  EXPECT_EQ(in.prepare().size(), RequestInput::kBodyReadMax);
  // A small window never shrinks reads below the base buffer.
  in.set_body_window(10);
  EXPECT_EQ(in.prepare().size(), 504u);
}

TEST(RequestInput, BodyBeyondTheBudgetStaysBuffered) {
  RequestInput in(settings());
  put(in, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 300\r\n\r\n");
  ASSERT_EQ(in.next(0).kind, RequestCodec::EventKind::head);
  put(in, std::string(300, 'y'));
  auto ev = in.next(120);
  ASSERT_EQ(ev.kind, RequestCodec::EventKind::body);
  EXPECT_EQ(ev.body.size(), 120u);
  EXPECT_EQ(in.next(0).kind, RequestCodec::EventKind::blocked);
  ev = in.next(1000);
  EXPECT_EQ(ev.body.size(), 180u);
  EXPECT_TRUE(ev.last);
}

}  // namespace
}  // namespace pagi::gateway::http1
