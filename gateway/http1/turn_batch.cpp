#include "gateway/http1/turn_batch.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

namespace pagi::gateway::http1 {

boost::asio::execution_context::id TurnBatch::id;

TurnBatch& TurnBatch::of(const boost::asio::any_io_executor& executor) {
  return boost::asio::use_service<TurnBatch>(boost::asio::query(executor, boost::asio::execution::context));
}

void TurnBatch::add(Task& task, std::shared_ptr<void> owner, const boost::asio::any_io_executor& executor) {
  pending_.emplace_back(&task, std::move(owner));
  if (posted_) return;
  posted_ = true;
  // The service lives as long as the context, which outlives its handlers.
  boost::asio::post(executor, [this] { run_all(); });
}

void TurnBatch::run_all() {
  posted_ = false;
  std::vector<std::pair<Task*, std::shared_ptr<void>>> batch;
  batch.swap(spare_);
  batch.swap(pending_);  // pending_ takes the spare (empty) buffer
  // Each task guards its own handler (exceptions never leave it).
  for (auto& [task, owner] : batch) task->run_batched();
  batch.clear();
  spare_.swap(batch);
}

void TurnBatch::shutdown() {
  // Releases the owners before the context's other services go.
  pending_.clear();
  spare_.clear();
}

}  // namespace pagi::gateway::http1
