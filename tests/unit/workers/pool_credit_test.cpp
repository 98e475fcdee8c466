// Response credit batching and the hello opt-out of responseDone
// (docs/protocol.md "Flow control" and "responseDone"), against a fake worker.
#include <boost/asio/post.hpp>

#include "tests/unit/workers/pool_fixture.hpp"

namespace pagi::workers::testing {
namespace {

class PoolCreditTest : public PoolTest {
 protected:
  PoolCreditTest() { settings.send_window = 64; }  // credit threshold: 16

  // Lets every handler posted so far run (the end-of-turn credit flush among
  // them): handlers posted to one io_context run in order.
  void settle() {
    bool ran = false;
    boost::asio::post(io, [&] { ran = true; });
    ASSERT_TRUE(run_until([&] { return ran; }));
  }

  // A started scope whose worker has `bytes` of body in flight.
  std::uint64_t streaming(std::shared_ptr<FakeDownstream>& ds, std::size_t bytes) {
    ds = open(get());
    const std::uint64_t id = await_scope(0);
    FakeWorker& w = launcher->worker(0);
    w.send_start(id, 200);
    w.send_body(id, std::string(bytes, 'x'), true);
    EXPECT_TRUE(run_until([&] { return ds->body.size() == bytes; }));
    return id;
  }
};

TEST_F(PoolCreditTest, WithheldBelowThresholdReleasedAtIt) {
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = streaming(ds, 40);
  FakeWorker& w = launcher->worker(0);
  ds->upstream->response_written(10);  // 30 still in flight, 10 < 16: kept
  settle();
  ds->upstream->response_written(6);  // 16: the threshold
  ASSERT_TRUE(run_until([&] { return w.credit_for(id) == 16; }));
  // One frame: the first 10 were withheld, not sent on their own turn.
  EXPECT_EQ(w.count_of(E::CREDIT), 1u);
  EXPECT_TRUE(ds->errors.empty());
}

TEST_F(PoolCreditTest, ReleasedWhenDrained) {
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = streaming(ds, 10);
  FakeWorker& w = launcher->worker(0);
  ds->upstream->response_written(4);
  settle();
  ds->upstream->response_written(6);  // all written: 10 < 16 but nothing is left in flight
  ASSERT_TRUE(run_until([&] { return w.credit_for(id) == 10; }));
  EXPECT_EQ(w.count_of(E::CREDIT), 1u);
}

TEST_F(PoolCreditTest, FullWindowWrittenInSmallPiecesNeverStuck) {
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = streaming(ds, 64);  // the whole window: the worker now waits
  FakeWorker& w = launcher->worker(0);
  std::size_t written = 0;
  std::size_t pieces = 0;
  while (written < 64) {
    const std::size_t n = std::min<std::size_t>(7, 64 - written);  // each below the threshold
    ds->upstream->response_written(n);
    written += n;
    ++pieces;
    settle();
  }
  ASSERT_TRUE(run_until([&] { return w.credit_for(id) == 64; }));
  EXPECT_LT(w.count_of(E::CREDIT), pieces);  // batched
  // The window is open again: a second full window is no overrun.
  w.send_body(id, std::string(64, 'y'), false);
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  EXPECT_TRUE(ds->errors.empty());
}

TEST_F(PoolCreditTest, CompleteResponseCreditRidesWithResponseDone) {
  start_ok();
  std::shared_ptr<FakeDownstream> ds;
  const std::uint64_t id = streaming(ds, 20);
  FakeWorker& w = launcher->worker(0);
  w.send_body(id, "end", false);
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  ds->upstream->response_written(23);
  settle();
  ds->upstream->response_done();
  ASSERT_TRUE(run_until([&] { return w.count_of(E::RESPONSE_DONE) == 1; }));
  EXPECT_EQ(w.credit_for(id), 23u);
  EXPECT_EQ(w.count_of(E::CREDIT), 1u);
}

TEST_F(PoolCreditTest, HelloSkipResponseDoneGetsNone) {
  launcher->options_for = [](std::size_t) {
    FakeWorkerOptions o;
    o.skip_response_done = true;
    return o;
  };
  start_ok();
  auto ds = open(get());
  const std::uint64_t id = await_scope(0);
  FakeWorker& w = launcher->worker(0);
  w.send_start(id, 200);
  w.send_body(id, "hello world", false);
  ASSERT_TRUE(run_until([&] { return ds->body_done; }));
  ds->upstream->response_written(11);
  ds->upstream->response_done();
  w.send_scope_end(id);
  ASSERT_TRUE(run_until([&] { return ds->app_done_failed.has_value(); }));
  // A later frame on the same socket: anything sent before it has arrived.
  auto next = open(get());
  await_scope(0, 2);
  EXPECT_EQ(w.count_of(E::RESPONSE_DONE), 0u);
  EXPECT_EQ(w.count_of(E::CREDIT), 0u);
  EXPECT_TRUE(ds->errors.empty());
  EXPECT_EQ(pool->stats().in_flight, 1u);
}

}  // namespace
}  // namespace pagi::workers::testing
