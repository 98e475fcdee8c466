#include "gateway/http1/output_queue.hpp"

#include <algorithm>
#include <unistd.h>

namespace pagi::gateway::http1 {

bool OutputQueue::back_appendable() const {
  if (items_.empty()) return false;
  const auto& b = items_.back();
  if (b.is_file() || b.is_shared() || b.ends_response || b.ends_connection || b.sent > 0) return false;
  return items_.size() > in_flight_;
}

void OutputQueue::append(std::string_view bytes, std::size_t credit) {
  // Small pieces coalesce (fewer items, fewer buffers per writev); a large
  // piece gets an item of its own, allocated once at its size, rather than
  // regrowing (and recopying) a buffer that already holds a large body.
  if (back_appendable()) {
    auto& back = items_.back().data;
    if (back.size() + bytes.size() <= std::max(back.capacity(), kCoalesceMax) || bytes.empty()) {
      back.append(bytes);
      items_.back().credit += credit;
      return;
    }
  }
  OutputItem item;
  // A small item gets room for what usually follows it in the same turn (a
  // head, then its body and a chunk trailer): one allocation, no regrowth.
  if (bytes.size() < kSmallItem) item.data.reserve(kSmallItem);
  item.data.assign(bytes);
  item.credit = credit;
  items_.push_back(std::move(item));
}

void OutputQueue::append_shared(const protocol::SharedBytes& bytes, std::size_t credit) {
  const void* storage = bytes.storage();
  const bool new_run = pinned_runs_ == 0 || storage != last_shared_storage_;
  if (bytes.empty() || stalled_ || (new_run && pinned_runs_ >= kMaxPinnedChunks)) {
    append(bytes.view(), credit);
    return;
  }
  if (new_run) {
    ++pinned_runs_;
    last_shared_storage_ = storage;
  }
  OutputItem item;
  item.shared = bytes;
  item.credit = credit;
  items_.push_back(std::move(item));
}

void OutputQueue::on_write_result(bool complete) {
  stalled_ = !complete;
  if (stalled_ && pinned_runs_ > 0) copy_out_shared(in_flight_);
}

void OutputQueue::copy_out_shared(std::size_t first) {
  for (std::size_t i = first; i < items_.size(); ++i) {
    auto& it = items_[i];
    if (!it.is_shared()) continue;
    // Only the unsent part is worth keeping.
    it.data.assign(it.shared.view().substr(it.sent));
    it.sent = 0;
    it.shared = {};
  }
  // Whatever stays shared (in flight) is counted again.
  pinned_runs_ = 0;
  last_shared_storage_ = nullptr;
  for (const auto& it : items_) {
    if (!it.is_shared()) continue;
    if (pinned_runs_ == 0 || it.shared.storage() != last_shared_storage_) ++pinned_runs_;
    last_shared_storage_ = it.shared.storage();
  }
}

void OutputQueue::append_file(int fd, std::uint64_t offset, std::uint64_t length) {
  OutputItem item;
  item.fd = fd;
  item.file_offset = offset;
  item.file_left = length;
  items_.push_back(std::move(item));
}

void OutputQueue::mark_response_end() {
  OutputItem item;
  item.ends_response = true;
  items_.push_back(std::move(item));
}

void OutputQueue::mark_connection_end() {
  OutputItem item;
  item.ends_connection = true;
  items_.push_back(std::move(item));
}

bool OutputQueue::retract(std::size_t bytes) {
  if (bytes == 0 || !back_appendable() || items_.back().data.size() < bytes) return false;
  auto& d = items_.back().data;
  d.resize(d.size() - bytes);
  if (d.empty() && items_.back().credit == 0) items_.pop_back();
  return true;
}

void OutputQueue::push_front_data(std::string data) {
  OutputItem item;
  item.data = std::move(data);
  items_.push_front(std::move(item));
  if (in_flight_ > 0) ++in_flight_;
}

OutputItem OutputQueue::pop_front() {
  OutputItem item = std::move(items_.front());
  items_.pop_front();
  if (item.is_shared()) {
    // Its run ends unless the next shared item comes from the same chunk.
    const auto next = std::find_if(items_.begin(), items_.end(), [](const OutputItem& it) { return it.is_shared(); });
    if (next == items_.end() || next->shared.storage() != item.shared.storage()) --pinned_runs_;
    if (pinned_runs_ == 0) last_shared_storage_ = nullptr;
  }
  if (in_flight_ > 0) --in_flight_;
  return item;
}

void OutputQueue::clear() {
  for (auto& item : items_)
    if (item.fd >= 0) ::close(item.fd);
  items_.clear();
  in_flight_ = 0;
  pinned_runs_ = 0;
  last_shared_storage_ = nullptr;
  stalled_ = false;
}

}  // namespace pagi::gateway::http1
