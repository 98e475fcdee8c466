#include "workers/request_queue.hpp"

#include <algorithm>

namespace pagi::workers {

bool RequestQueue::push(std::uint64_t key, Clock::time_point now) {
  if (entries_.size() >= capacity_) return false;
  entries_.push_back({key, now});
  return true;
}

std::optional<std::uint64_t> RequestQueue::pop(Clock::time_point* since) {
  if (entries_.empty()) return std::nullopt;
  const std::uint64_t key = entries_.front().key;
  if (since) *since = entries_.front().since;
  entries_.pop_front();
  return key;
}

void RequestQueue::remove(std::uint64_t key) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [key](const Entry& e) { return e.key == key; });
  if (it != entries_.end()) entries_.erase(it);
}

std::vector<std::uint64_t> RequestQueue::take_expired(Clock::time_point now) {
  std::vector<std::uint64_t> expired;
  while (!entries_.empty() && entries_.front().since + timeout_ <= now) {
    expired.push_back(entries_.front().key);
    entries_.pop_front();
  }
  return expired;
}

std::optional<RequestQueue::Clock::time_point> RequestQueue::next_deadline() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front().since + timeout_;
}

std::vector<std::uint64_t> RequestQueue::take_all() {
  std::vector<std::uint64_t> all;
  all.reserve(entries_.size());
  for (const Entry& e : entries_) all.push_back(e.key);
  entries_.clear();
  return all;
}

}  // namespace pagi::workers
