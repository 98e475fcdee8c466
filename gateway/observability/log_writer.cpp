#include "gateway/observability/log_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <system_error>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace pagi::gateway::observability {

LogWriter::LogWriter(std::string path, Seconds flush_interval, std::size_t buffer_bytes)
    : path_(std::move(path)),
      flush_interval_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(flush_interval)),
      buffer_bytes_(buffer_bytes) {
  if (path_ == "stdout")
    fd_ = STDOUT_FILENO;
  else if (path_ == "stderr")
    fd_ = STDERR_FILENO;
  else
    open_file();
  pending_.reserve(buffer_bytes_ < 64 * 1024 ? buffer_bytes_ : 64 * 1024);
  thread_ = std::thread([this] { run(); });
}

LogWriter::~LogWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  if (owns_fd_) ::close(fd_);
}

void LogWriter::open_file() {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open access log " + path_);
  if (owns_fd_) ::close(fd_);
  fd_ = fd;
  owns_fd_ = true;
}

void LogWriter::write(std::string_view lines) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + lines.size() > buffer_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = pending_.empty();
    pending_.append(lines);
  }
  if (was_empty) wake_.notify_one();
}

void LogWriter::reopen() {
  {
    std::lock_guard lock(mutex_);
    if (!reopen_requested_) reopen_split_ = pending_.size();
    reopen_requested_ = true;
  }
  wake_.notify_one();
}

void LogWriter::run() {
  std::string writing;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || reopen_requested_ || !pending_.empty(); });
    // Gather a batch: wait out the flush interval unless the buffer is
    // half full or something more urgent came.
    if (!stop_ && !reopen_requested_) {
      wake_.wait_for(lock, flush_interval_,
                     [&] { return stop_ || reopen_requested_ || pending_.size() >= buffer_bytes_ / 2; });
    }
    writing.swap(pending_);
    const bool reopen_now = reopen_requested_;
    const std::size_t split = reopen_now ? std::min(reopen_split_, writing.size()) : writing.size();
    reopen_requested_ = false;
    const bool stopping = stop_;
    lock.unlock();
    if (split > 0) write_out(std::string_view(writing).substr(0, split));
    if (reopen_now && owns_fd_) {
      try {
        open_file();
        reopens_.fetch_add(1, std::memory_order_relaxed);
      } catch (const std::exception& e) {
        spdlog::error("{}; still writing to the old file", e.what());
      }
    }
    if (split < writing.size()) write_out(std::string_view(writing).substr(split));
    writing.clear();
    lock.lock();
    if (stopping && pending_.empty()) return;
  }
}

void LogWriter::write_out(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {  // a non-blocking stdout: this thread may wait
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);  // EPIPE, ENOSPC...: the batch is lost
    return;
  }
}

}  // namespace pagi::gateway::observability
