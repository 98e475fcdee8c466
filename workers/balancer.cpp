#include "workers/balancer.hpp"

namespace pagi::workers {

std::size_t slots_used(const WorkerLoad& w, SlotKind kind) {
  if (shares_single_slot(w)) return w.in_flight + w.streams;
  return kind == SlotKind::stream ? w.streams : w.in_flight;
}

std::size_t slots_limit(const WorkerLoad& w, SlotKind kind) {
  if (shares_single_slot(w)) return w.concurrency;
  return kind == SlotKind::stream ? w.stream_concurrency : w.concurrency;
}

std::optional<std::uint32_t> pick_least_loaded(std::span<const WorkerLoad> workers, SlotKind kind) {
  const WorkerLoad* best = nullptr;
  std::size_t best_used = 0;
  for (const WorkerLoad& w : workers) {
    if (!has_free_slot(w, kind)) continue;
    const std::size_t used = slots_used(w, kind);
    if (best == nullptr || used < best_used) {
      best = &w;
      best_used = used;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->worker_id;
}

}  // namespace pagi::workers
