// TurnBatch: the tasks added during a turn run from one posted handler, in
// order; one added while the batch runs waits for the next handler; owners
// are held until their task ran.
#include "gateway/http1/turn_batch.hpp"

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace pagi::gateway::http1 {
namespace {

struct Recorder final : TurnBatch::Task {
  Recorder(std::string& log, char name) : log(log), name(name) {}
  void run_batched() override {
    log += name;
    if (then) {
      then();
      then = nullptr;
    }
  }
  std::string& log;
  char name;
  std::function<void()> then;
};

TEST(TurnBatch, TasksOfOneTurnShareOneHandlerInOrder) {
  boost::asio::io_context io;
  boost::asio::any_io_executor ex = io.get_executor();
  auto& batch = TurnBatch::of(ex);
  EXPECT_EQ(&batch, &TurnBatch::of(ex));  // one per context
  std::string log;
  Recorder a(log, 'a'), b(log, 'b'), c(log, 'c');
  batch.add(a, nullptr, ex);
  batch.add(b, nullptr, ex);
  batch.add(c, nullptr, ex);
  EXPECT_EQ(log, "");  // nothing runs inline
  EXPECT_EQ(io.poll(), 1u);
  EXPECT_EQ(log, "abc");
}

TEST(TurnBatch, TaskAddedWhileRunningGoesToTheNextHandler) {
  boost::asio::io_context io;
  boost::asio::any_io_executor ex = io.get_executor();
  auto& batch = TurnBatch::of(ex);
  std::string log;
  Recorder a(log, 'a'), b(log, 'b');
  a.then = [&] { batch.add(b, nullptr, ex); };
  batch.add(a, nullptr, ex);
  EXPECT_EQ(io.run_one(), 1u);
  EXPECT_EQ(log, "a");
  EXPECT_EQ(io.run_one(), 1u);
  EXPECT_EQ(log, "ab");
  // Both buffers are reused: a third turn still runs.
  batch.add(a, nullptr, ex);
  io.restart();  // run_one stopped the context when it ran out of work
  EXPECT_EQ(io.poll(), 1u);
  EXPECT_EQ(log, "aba");
}

TEST(TurnBatch, OwnerIsHeldUntilItsTaskRan) {
  boost::asio::io_context io;
  boost::asio::any_io_executor ex = io.get_executor();
  std::string log;
  Recorder a(log, 'a');
  auto owner = std::make_shared<int>(7);
  std::weak_ptr<int> weak = owner;
  TurnBatch::of(ex).add(a, std::move(owner), ex);
  EXPECT_FALSE(weak.expired());
  io.poll();
  EXPECT_EQ(log, "a");
  EXPECT_TRUE(weak.expired());
}

TEST(TurnBatch, ContextShutdownReleasesPendingOwners) {
  std::weak_ptr<int> weak;
  std::string log;
  Recorder a(log, 'a');
  {
    boost::asio::io_context io;
    boost::asio::any_io_executor ex = io.get_executor();
    auto owner = std::make_shared<int>(7);
    weak = owner;
    TurnBatch::of(ex).add(a, std::move(owner), ex);
  }
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(log, "");
}

}  // namespace
}  // namespace pagi::gateway::http1
