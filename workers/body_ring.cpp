#include "workers/body_ring.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <sys/mman.h>

namespace pagi::workers {

std::shared_ptr<BodyRing> BodyRing::create(std::uint32_t size, std::string& error) {
  if (size == 0) {
    error = "body ring: size 0";
    return nullptr;
  }
  const int fd = ::memfd_create("pagi-body-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    error = std::string("body ring: memfd_create: ") + std::strerror(errno);
    return nullptr;
  }
  auto fail = [&](const char* step) {
    error = std::string("body ring: ") + step + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  };
  if (::ftruncate(fd, size) != 0) return fail("ftruncate");
  // A worker that could shrink the file would make the gateway's reads of
  // the mapping fault (SIGBUS); sealed, it can only write bytes.
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) return fail("seal");
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return fail("mmap");
  return std::shared_ptr<BodyRing>(new BodyRing(fd, size, static_cast<const char*>(map)));
}

BodyRing::~BodyRing() {
  ::munmap(const_cast<char*>(map_), size_);
  close_fd();
}

void BodyRing::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool BodyRing::take(std::uint64_t position, std::uint32_t length, protocol::SharedBytes& out, const char*& why) {
  if (length == 0 || length > size_) {
    why = "body ring span of a bad length";
    return false;
  }
  if (position < write_end_) {
    why = "body ring span before the end of the previous one";
    return false;
  }
  if (position % size_ + length > size_) {
    why = "body ring span across the end of the ring";
    return false;
  }
  // Written over bytes the gateway still holds? (released() + size_ cannot
  // overflow before position does: positions grow by at most 4 GiB a span.)
  // Holding nothing, it holds nothing the span could reach: a worker that
  // learned so starts its next turn anywhere ahead (docs/protocol.md 3c).
  if (!spans_.empty() && position > released() + size_ - length) {
    why = "body ring span over bytes not yet released";
    return false;
  }
  const std::uint64_t token = first_token_ + spans_.size();
  spans_.push_back({position, true});
  write_end_ = position + length;
  ++held_;
  used_since_check_ = true;
  trimmed_ = false;
  out = protocol::SharedBytes::external(map_ + position % size_, length, shared_from_this(), token);
  return true;
}

void BodyRing::release_bytes(std::uint64_t token) noexcept {
  const std::uint64_t index = token - first_token_;
  if (token < first_token_ || index >= spans_.size() || !spans_[index].held) return;
  spans_[index].held = false;
  --held_;
  while (!spans_.empty() && !spans_.front().held) {
    spans_.pop_front();
    ++first_token_;
  }
  if (!progress_signalled_ && on_progress_ && announcement_due()) {
    progress_signalled_ = true;
    on_progress_();
  }
}

bool BodyRing::trim_if_idle() {
  const bool idle = !used_since_check_ && held_ == 0;
  used_since_check_ = false;
  if (!idle || trimmed_) return false;
  // On a shared mapping this unmaps pages (they refault from the memfd on
  // the next read); it discards nothing.
  ::madvise(const_cast<char*>(map_), size_, MADV_DONTNEED);
  trimmed_ = true;
  return true;
}

std::uint64_t BodyRing::take_announcement() {
  progress_signalled_ = false;
  if (!announcement_due()) return 0;
  announced_ = released();
  return announced_;
}

}  // namespace pagi::workers
