#include "workers/request_queue.hpp"

#include <algorithm>

namespace pagi::workers {

bool RequestQueue::push(std::uint64_t key, Clock::time_point now, SlotKind kind) {
  if (size() >= capacity_) return false;
  lane(kind).push_back({key, now});
  return true;
}

std::deque<RequestQueue::Entry>* RequestQueue::oldest_lane() {
  std::deque<Entry>* best = nullptr;
  for (auto& l : lanes_) {
    if (!l.empty() && (best == nullptr || l.front().since < best->front().since)) best = &l;
  }
  return best;
}

std::optional<std::uint64_t> RequestQueue::pop(Clock::time_point* since) {
  std::deque<Entry>* l = oldest_lane();
  if (l == nullptr) return std::nullopt;
  const std::uint64_t key = l->front().key;
  if (since) *since = l->front().since;
  l->pop_front();
  return key;
}

std::optional<std::uint64_t> RequestQueue::pop(SlotKind kind, Clock::time_point* since) {
  std::deque<Entry>& l = lane(kind);
  if (l.empty()) return std::nullopt;
  const std::uint64_t key = l.front().key;
  if (since) *since = l.front().since;
  l.pop_front();
  return key;
}

void RequestQueue::remove(std::uint64_t key) {
  for (auto& l : lanes_) {
    auto it = std::find_if(l.begin(), l.end(), [key](const Entry& e) { return e.key == key; });
    if (it != l.end()) {
      l.erase(it);
      return;
    }
  }
}

std::vector<std::uint64_t> RequestQueue::take_expired(Clock::time_point now) {
  std::vector<std::uint64_t> expired;
  while (std::deque<Entry>* l = oldest_lane()) {
    if (l->front().since + timeout_ > now) break;
    expired.push_back(l->front().key);
    l->pop_front();
  }
  return expired;
}

std::optional<RequestQueue::Clock::time_point> RequestQueue::next_deadline() const {
  auto* self = const_cast<RequestQueue*>(this);  // oldest_lane changes nothing
  const std::deque<Entry>* l = self->oldest_lane();
  if (l == nullptr) return std::nullopt;
  return l->front().since + timeout_;
}

std::vector<std::uint64_t> RequestQueue::take_all() {
  std::vector<std::uint64_t> all;
  all.reserve(size());
  while (auto key = pop()) all.push_back(*key);
  return all;
}

}  // namespace pagi::workers
