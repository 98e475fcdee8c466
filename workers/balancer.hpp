// Chooses the worker for a new scope: the least-loaded ready worker that has
// a free slot of the scope's kind. Sans-I/O; the pool hands in a snapshot.
//
// Two kinds of slot (docs/operations.md, "Concurrency"): http request scopes
// count against `concurrency`; long-lived websocket and sse scopes against
// `stream_concurrency`, so idle streams never starve plain requests. A
// worker whose concurrency is 1 (WSGI, blocking PSGI) runs one scope at a
// time whatever its kind: there, both kinds share that single slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace pagi::workers {

enum class SlotKind : std::uint8_t { request, stream };

struct WorkerLoad {
  std::uint32_t worker_id = 0;
  bool ready = false;         // accepts new scopes (life == ready)
  std::size_t in_flight = 0;  // http request scopes running
  std::size_t concurrency = 1;
  std::size_t streams = 0;  // websocket/sse scopes running
  std::size_t stream_concurrency = 0;
};

// One slot for every scope: the worker runs scopes one at a time.
inline bool shares_single_slot(const WorkerLoad& w) { return w.concurrency <= 1; }
// Slots of `kind` in use and available on `w`.
std::size_t slots_used(const WorkerLoad& w, SlotKind kind);
std::size_t slots_limit(const WorkerLoad& w, SlotKind kind);
inline bool has_free_slot(const WorkerLoad& w, SlotKind kind) {
  return w.ready && slots_used(w, kind) < slots_limit(w, kind);
}

// The id of the chosen worker, or nothing when every ready worker is full
// for that kind. Ties go to the first in the span, so callers can rotate it
// for fairness.
std::optional<std::uint32_t> pick_least_loaded(std::span<const WorkerLoad> workers, SlotKind kind = SlotKind::request);

}  // namespace pagi::workers
