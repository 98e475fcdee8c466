// Response bodies through a worker's shared body ring (docs/protocol.md
// "3c"), against a fake worker: the welcome, the bytes, the release
// announcements, and a worker that breaks the ring's rules.
#include "tests/unit/workers/pool_fixture.hpp"

namespace pagi::workers::testing {
namespace {

class PoolBodyRingTest : public PoolTest {
 protected:
  PoolBodyRingTest() {
    settings.body_ring = 64 * 1024;  // announcements every 8 KiB
    settings.send_window = 1024 * 1024;
    launcher->options_for = [](std::size_t) {
      FakeWorkerOptions o;
      o.body_ring = true;
      return o;
    };
  }

  std::uint64_t started(std::shared_ptr<FakeDownstream>& ds) {
    ds = open(get());
    const std::uint64_t id = await_scope(0);
    launcher->worker(0).send_start(id, 200);
    return id;
  }
};

TEST_F(PoolBodyRingTest, WelcomeAnnouncesTheRingOnlyToWorkersThatHaveOne) {
  settings.workers = 2;
  launcher->options_for = [](std::size_t i) {
    FakeWorkerOptions o;
    o.body_ring = i == 0;
    return o;
  };
  start_ok();
  ASSERT_EQ(launcher->worker(0).received_of(E::WELCOME).size(), 1u);
  EXPECT_EQ(launcher->worker(0).received_of(E::WELCOME)[0].getWelcome().getBodyRingBytes(), 64u * 1024);
  EXPECT_EQ(launcher->worker(1).received_of(E::WELCOME)[0].getWelcome().getBodyRingBytes(), 0u);
}

TEST_F(PoolBodyRingTest, SpansReachTheTransportAndReleasesComeBackBatched) {
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = started(ds);
  ds->hold_shared = true;
  FakeWorker& w = launcher->worker(0);
  const std::string part(4096, 'r');
  w.send_body(id, "inline-", true);  // mixed with inline bodies, in order
  w.send_ring_body(id, 0, part, true);
  w.send_ring_body(id, 4096, part, true);
  w.send_ring_body(id, 8192, part, false);
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  EXPECT_EQ(ds->body, "inline-" + part + part + part);
  EXPECT_EQ(pool->stats().body_bytes_ring, 3u * 4096);
  EXPECT_EQ(pool->stats().body_bytes_socket, 7u);
  ASSERT_EQ(ds->held.size(), 3u);
  ds->upstream->response_written(ds->body.size());
  // Held by the transport: nothing released yet.
  EXPECT_EQ(w.ring_released(), 0u);
  ds->held.erase(ds->held.begin());  // 4 KiB done: under an eighth (8 KiB)
  ds->held.erase(ds->held.begin());  // 8 KiB: announced at the end of the turn
  ASSERT_TRUE(run_until([&] { return w.ring_released() == 8192; }));
  ds->held.clear();  // 4 KiB more, and the ring is empty: worth telling
  ASSERT_TRUE(run_until([&] { return w.ring_released() == 12288; }));
  EXPECT_EQ(w.count_of(E::BODY_RING_RELEASE), 2u) << "the first 4 KiB alone was not worth a frame";
}

TEST_F(PoolBodyRingTest, CopyingTransportReleasesAtOnce) {
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = started(ds);
  FakeWorker& w = launcher->worker(0);
  for (std::uint64_t i = 0; i < 4; ++i) w.send_ring_body(id, i * 8192, std::string(8192, 'a' + i), i < 3);
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  EXPECT_EQ(ds->body.substr(3 * 8192), std::string(8192, 'd'));
  ASSERT_TRUE(run_until([&] { return w.ring_released() == 4 * 8192; }));
}

TEST_F(PoolBodyRingTest, SpansNobodyReadsAreReleasedToo) {
  // Spans that cross the client's disconnect (and any after the scope
  // ended) go unread, yet count: unaccounted they would keep the release
  // position behind them, and a worker whose ring filled with them would
  // never use it again.
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = started(ds);
  FakeWorker& w = launcher->worker(0);
  ds->upstream->disconnect(DisconnectReason::client_closed);
  w.send_ring_body(id, 0, std::string(4096, 'a'), true);
  w.send_ring_body(id, 4096, std::string(4096, 'b'), false);
  ASSERT_TRUE(run_until([&] { return w.ring_released() == 8192; }));
  EXPECT_TRUE(ds->body.empty());
  w.send_scope_end(id);
  // A span after the scope's end (it crossed in flight) is checked as well.
  w.send_ring_body(id, 8192, std::string(4096, 'c'), false);
  ASSERT_TRUE(run_until([&] { return w.ring_released() == 12288; }));
  w.send_ring_body(id, 100, std::string(4096, 'd'), false);  // overlaps released bytes: still a violation
  ASSERT_TRUE(run_until([&] { return w.exited(); }));
}

TEST_F(PoolBodyRingTest, OverlappingSpanCostsTheWorkerNotOthers) {
  settings.workers = 2;
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = started(ds);
  ds->hold_shared = true;
  FakeWorker& bad = launcher->worker(0);
  bad.send_ring_body(id, 0, std::string(4096, 'x'), true);
  ASSERT_TRUE(run_until([&] { return ds->held.size() == 1; }));
  // One ring later plus a byte: over the span the transport still holds.
  // (The fake writes nothing this time: a worker that does only changes its own response.)
  bad.send_ring_body(id, 64 * 1024, "", true, 1);
  ASSERT_TRUE(run_until([&] { return !ds->errors.empty(); }));
  EXPECT_EQ(ds->errors[0], UpstreamError::worker_lost);
  EXPECT_TRUE(ds->held[0].view() == std::string(4096, 'x')) << "held bytes stay readable after the worker is gone";
  // The other worker (or the replacement) serves on.
  auto other = open(get());
  FakeWorker* server = nullptr;
  ASSERT_TRUE(run_until([&] {
    for (std::size_t i = 1; i < launcher->workers().size() && server == nullptr; ++i)
      if (!http_scopes(launcher->worker(i)).empty()) server = &launcher->worker(i);
    return server != nullptr;
  }));
  const std::uint64_t id2 = http_scopes(*server).back();
  server->send_start(id2, 200);
  server->send_ring_body(id2, 0, "fine", false);
  ASSERT_TRUE(run_until([&] { return other->body_done; }));
  EXPECT_EQ(other->body, "fine");
}

TEST_F(PoolBodyRingTest, SpanFromAWorkerWithoutARingIsAViolation) {
  launcher->options_for = [](std::size_t) { return FakeWorkerOptions{}; };
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = started(ds);
  launcher->worker(0).send_ring_body(id, 0, "nothing mapped", false);
  ASSERT_TRUE(run_until([&] { return !ds->errors.empty(); }));
  EXPECT_EQ(ds->errors[0], UpstreamError::worker_lost);
}

TEST_F(PoolBodyRingTest, SpanWithInlineBytesTooIsRejectedByValidation) {
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = started(ds);
  launcher->worker(0).send([&](wire::Envelope::Builder e) {
    e.setScope(id);
    auto b = e.initHttpResponseBody();
    b.setBody(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("both"), 4));
    b.setRingLength(4);
    b.setMore(false);
  });
  ASSERT_TRUE(run_until([&] { return !ds->errors.empty(); }));
  EXPECT_EQ(ds->errors[0], UpstreamError::worker_lost);
}

}  // namespace
}  // namespace pagi::workers::testing
