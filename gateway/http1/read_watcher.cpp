#include "gateway/http1/read_watcher.hpp"

#include <array>
#include <cerrno>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>

namespace pagi::gateway::http1 {

namespace {

constexpr std::uint32_t kIndexBits = 32;

ReadWatcher::Handle make_handle(std::uint32_t index, std::uint32_t generation) {
  // index + 1: a handle is never 0.
  return (static_cast<std::uint64_t>(generation) << kIndexBits) | (static_cast<std::uint64_t>(index) + 1);
}

}  // namespace

boost::asio::execution_context::id ReadWatcher::id;

ReadWatcher::ReadWatcher(boost::asio::execution_context& context) : service(context) {}

ReadWatcher& ReadWatcher::of(const boost::asio::any_io_executor& executor) {
  return boost::asio::use_service<ReadWatcher>(boost::asio::query(executor, boost::asio::execution::context));
}

ReadWatcher::Handle ReadWatcher::add(int fd, Reader& reader, const boost::asio::any_io_executor& executor) {
  if (!set_) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return 0;
    set_.emplace(executor, epoll_fd_);
  }
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  const Handle handle = make_handle(index, slot.generation);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = handle;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    free_.push_back(index);
    return 0;
  }
  slot.reader = &reader;
  ++watched_;
  arm();
  return handle;
}

void ReadWatcher::remove(Handle handle, int fd) {
  const auto index = static_cast<std::uint32_t>(handle & 0xffffffffU) - 1;
  if (handle == 0 || index >= slots_.size()) return;
  Slot& slot = slots_[index];
  if (slot.reader == nullptr || make_handle(index, slot.generation) != handle) return;
  // A closed descriptor leaves the set by itself; a handed-on one must not
  // keep waking it. Events already fetched for it find the slot changed.
  if (fd >= 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  slot.reader = nullptr;
  ++slot.generation;
  free_.push_back(index);
  // Nothing left to watch: the wait must not keep the context's run() going.
  if (--watched_ == 0 && armed_) set_->cancel();
}

void ReadWatcher::arm() {
  if (armed_ || !set_) return;
  armed_ = true;
  // The service outlives every handler of its context.
  set_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    armed_ = false;
    if (ec && ec != boost::asio::error::operation_aborted) {
      spdlog::error("read watcher: waiting on its epoll set failed: {}", ec.message());
      return;
    }
    if (!ec) dispatch();
    if (watched_ > 0) arm();  // also after a cancel followed by a new add()
  });
}

void ReadWatcher::dispatch() {
  std::array<epoll_event, 256> events;
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      const Handle handle = events[i].data.u64;
      const auto index = static_cast<std::uint32_t>(handle & 0xffffffffU) - 1;
      if (index >= slots_.size()) continue;
      const Slot& slot = slots_[index];
      // Removed (maybe reused) since the kernel reported it: not ours.
      if (slot.reader == nullptr || make_handle(index, slot.generation) != handle) continue;
      slot.reader->on_readable();
    }
    if (n < static_cast<int>(events.size())) return;
  }
}

void ReadWatcher::shutdown() {
  boost::system::error_code ec;
  if (set_) set_->close(ec);  // closes epoll_fd_ too
  set_.reset();
  epoll_fd_ = -1;
  // Readers may end here (and then call remove(), a no-op by now).
  std::vector<Slot> slots;
  slots.swap(slots_);
  free_.clear();
  watched_ = 0;
  for (const Slot& slot : slots)
    if (slot.reader != nullptr) slot.reader->on_watcher_closed();
}

}  // namespace pagi::gateway::http1
