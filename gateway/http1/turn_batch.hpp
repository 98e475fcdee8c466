// One posted handler per loop turn for every HTTP/1 write pump scheduled in
// that turn. A worker's read carries the responses of many connections;
// posting a handler per connection cost an Asio operation (allocation,
// scheduler queue round trip, ~600 instructions per hello response). Tasks
// run in the order they were added, as the separate posts did.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>

namespace pagi::gateway::http1 {

class TurnBatch final : public boost::asio::execution_context::service {
 public:
  class Task {
   public:
    virtual void run_batched() = 0;

   protected:
    ~Task() = default;
  };

  static boost::asio::execution_context::id id;

  explicit TurnBatch(boost::asio::execution_context& context) : service(context) {}

  // The batch of `executor`'s execution context.
  static TurnBatch& of(const boost::asio::any_io_executor& executor);

  // Runs `task` soon, from the turn's one posted handler on `executor`.
  // `owner` keeps the task alive until then. A task added while the batch
  // runs goes to the next handler.
  void add(Task& task, std::shared_ptr<void> owner, const boost::asio::any_io_executor& executor);

 private:
  void shutdown() override;
  void run_all();

  std::vector<std::pair<Task*, std::shared_ptr<void>>> pending_;
  std::vector<std::pair<Task*, std::shared_ptr<void>>> spare_;  // keeps its capacity between turns
  bool posted_ = false;
};

}  // namespace pagi::gateway::http1
