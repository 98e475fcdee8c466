// Response bodies queued by reference (SharedBytes of a worker's read
// chunk): the bytes reach the client intact, and no path (done, slow
// client, client gone, worker gone) keeps a reference or frees one early.
#include <gtest/gtest.h>

#include "tests/unit/gateway/http1/http1_test_support.hpp"

namespace pagi::testing {
namespace {

using protocol::SharedBytes;
using std::chrono::milliseconds;

std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = char(seed + i % 23);
  return s;
}

TEST(Http1SharedBody, ContentLengthAndChunkedBodiesArriveIntactAndAreReleased) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  const auto a1 = SharedBytes::copy_of(pattern(20000, 'a'));
  const auto a2 = SharedBytes::copy_of(pattern(30000, 'k'));
  h.scope(0).start(200, {{"content-length", "50000"}});
  h.scope(0).send_shared(a1, true);
  h.scope(0).send_shared(a2, false);
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 2; }));
  const auto b1 = SharedBytes::copy_of(pattern(10000, 'x'));
  h.scope(1).start(200);  // no length: chunked
  h.scope(1).send_shared(b1, true);
  h.scope(1).send_shared(b1, false);  // the same storage twice
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return parse_responses(c->received).size() == 2;
  }));
  const auto r = parse_responses(c->received);
  EXPECT_EQ(r[0].body, pattern(20000, 'a') + pattern(30000, 'k'));
  EXPECT_EQ(r[1].body, pattern(10000, 'x') + pattern(10000, 'x'));
  EXPECT_EQ(h.scope(0).written, 50000u);
  EXPECT_EQ(h.scope(1).written, 20000u);
  // Written and retired: only this test holds the storage now.
  EXPECT_EQ(a1.use_count(), 1u);
  EXPECT_EQ(a2.use_count(), 1u);
  EXPECT_EQ(b1.use_count(), 1u);
}

// A client that does not read: the first short write copies the shared
// bodies out, so a slow client never pins a worker's read chunk.
TEST(Http1SharedBody, SlowClientReleasesTheChunksAndStillGetsEveryByte) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  const std::size_t piece_size = 1024 * 1024;
  std::vector<SharedBytes> pieces;
  for (char seed : {'a', 'f', 'm', 'r'}) pieces.push_back(SharedBytes::copy_of(pattern(piece_size, seed)));
  s.start(200, {{"content-length", std::to_string(4 * piece_size)}});
  for (std::size_t i = 0; i < pieces.size(); ++i) s.send_shared(pieces[i], i + 1 < pieces.size());
  h.settle();
  ASSERT_LT(s.written, 4 * piece_size);  // the kernel buffers are full
  for (const auto& p : pieces) EXPECT_EQ(p.use_count(), 1u);
  ASSERT_TRUE(h.run_until(
      [&] {
        c->pump();
        return s.done_calls == 1;
      },
      milliseconds(20000)));
  const auto r = parse_responses(c->received);
  ASSERT_EQ(r.size(), 1u);
  std::string want;
  for (char seed : {'a', 'f', 'm', 'r'}) want += pattern(piece_size, seed);
  EXPECT_TRUE(r[0].body == want);
}

TEST(Http1SharedBody, ClientGoneWithSharedBodiesQueuedReleasesThem) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  const auto body = SharedBytes::copy_of(pattern(8 * 1024 * 1024, 'q'));
  s.start(200, {{"content-length", std::to_string(16 * 1024 * 1024)}});
  s.send_shared(body, true);  // more than the kernel buffers take
  s.send_shared(body, true);
  c->close();
  ASSERT_TRUE(h.run_until([&] { return !s.disconnects.empty(); }));
  h.settle();
  EXPECT_EQ(h.closed, 1);
  EXPECT_EQ(body.use_count(), 1u);
  // A late body for the gone client is dropped, not queued.
  s.send_shared(body, false);
  h.settle();
  EXPECT_EQ(body.use_count(), 1u);
}

TEST(Http1SharedBody, WorkerLostMidResponseWithSharedBodiesQueuedReleasesThem) {
  Http1Harness h;
  auto c = h.connect_tcp();
  c->send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  auto& s = h.scope();
  const auto body = SharedBytes::copy_of(pattern(6 * 1024 * 1024, 'w'));
  s.start(200, {{"content-length", std::to_string(12 * 1024 * 1024)}});
  s.send_shared(body, true);
  s.send_shared(body, true);  // queued behind a write in flight
  s.upstream_error(workers::UpstreamError::worker_lost);
  ASSERT_TRUE(h.run_until([&] {
    c->pump();
    return c->eof();
  }));
  h.settle();
  EXPECT_EQ(h.closed, 1);
  EXPECT_EQ(body.use_count(), 1u);
}

}  // namespace
}  // namespace pagi::testing
