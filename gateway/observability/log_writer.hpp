// A line sink that never blocks the event loop: lines are appended to a
// bounded in-memory buffer under a short lock and written by one background
// thread (at most `flush_interval` later, sooner when the buffer fills). A
// destination that stops taking bytes (a full pipe) costs dropped lines,
// counted, never a stalled connection. Files are opened for append and
// reopened on request (SIGUSR1, after logrotate moved them).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "gateway/http_settings.hpp"

namespace pagi::gateway::observability {

class LogWriter {
 public:
  // `path`: "stdout", "stderr" or a file. Throws std::system_error when the
  // file cannot be opened.
  LogWriter(std::string path, Seconds flush_interval, std::size_t buffer_bytes);
  // Writes what is buffered, then stops the thread.
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends whole lines (each ends with '\n'); drops them when the buffer is full.
  void write(std::string_view lines);
  // Reopen the file (no-op for stdout/stderr) on the writer thread.
  void reopen();

  std::uint64_t dropped_lines() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t reopens() const { return reopens_.load(std::memory_order_relaxed); }

 private:
  void run();
  void write_out(std::string_view bytes);
  void open_file();

  const std::string path_;
  const std::chrono::steady_clock::duration flush_interval_;
  const std::size_t buffer_bytes_;
  int fd_ = -1;
  bool owns_fd_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;  // guarded by mutex_
  bool stop_ = false;
  bool reopen_requested_ = false;
  // Bytes of pending_ queued before the reopen was asked for: they go to the
  // old file, the rest (logged after the signal) to the new one.
  std::size_t reopen_split_ = 0;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> reopens_{0};
  std::thread thread_;
};

}  // namespace pagi::gateway::observability
