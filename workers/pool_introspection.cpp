// Read-only views of a pool for the admin endpoints and access logs: its
// workers, and which worker runs a scope. Nothing here changes state.
#include "workers/pool_core.hpp"

namespace pagi::workers {

std::vector<WorkerInfo> PoolCore::worker_infos() const {
  std::vector<WorkerInfo> out;
  const auto now = Clock::now();
  for (const auto& [id, worker] : workers_) {
    WorkerInfo info;
    info.id = id;
    info.pid = worker->pid();
    info.state = to_string(worker->life());
    info.generation = worker->recycle.generation;
    info.in_flight = worker->in_flight();
    info.streams = worker->streams();
    info.concurrency = worker->concurrency();
    info.stream_concurrency = worker->stream_concurrency();
    info.served = worker->scopes_opened();
    const bool was_ready = worker->life() == WorkerLife::ready || worker->life() == WorkerLife::draining;
    if (was_ready) info.ready_seconds = std::chrono::duration<double>(now - worker->ready_since()).count();
    out.push_back(info);
  }
  return out;
}

int PoolCore::scope_worker_pid(std::uint64_t id) const {
  auto* self = const_cast<PoolCore*>(this);  // ScopeTable::find is not const; nothing is changed
  const ScopeRecord* record = self->scopes_.find(id);
  if (!record || record->worker_id == 0) return 0;
  const auto it = workers_.find(record->worker_id);
  return it == workers_.end() ? 0 : it->second->pid();
}

std::vector<WorkerInfo> Pool::workers() const { return core_->worker_infos(); }

}  // namespace pagi::workers
