#include "workers/balancer.hpp"

namespace pagi::workers {

std::optional<std::uint32_t> pick_least_loaded(std::span<const WorkerLoad> workers) {
  const WorkerLoad* best = nullptr;
  for (const WorkerLoad& w : workers) {
    if (!w.ready || w.in_flight >= w.concurrency) continue;
    if (best == nullptr || w.in_flight < best->in_flight) best = &w;
  }
  if (best == nullptr) return std::nullopt;
  return best->worker_id;
}

}  // namespace pagi::workers
