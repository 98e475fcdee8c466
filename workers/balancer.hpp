// Chooses the worker for a new scope: the least-loaded ready worker that has
// a free concurrency slot. Sans-I/O; the pool hands in a snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace pagi::workers {

struct WorkerLoad {
  std::uint32_t worker_id = 0;
  bool ready = false;        // accepts new scopes (life == ready)
  std::size_t in_flight = 0;
  std::size_t concurrency = 1;
};

// The id of the chosen worker, or nothing when every ready worker is full.
// Ties go to the first in the span, so callers can rotate it for fairness.
std::optional<std::uint32_t> pick_least_loaded(std::span<const WorkerLoad> workers);

}  // namespace pagi::workers
