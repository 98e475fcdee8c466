// The bytes a connection owes its client, in order: response bytes (small
// appends coalesce into one buffer; a large one, such as a body, gets an item
// of its own; the write pump gathers consecutive items into one writev), file ranges
// for sendfile, and markers (credit to return, response end, connection end)
// that take effect when everything before them reached the socket.
// A data structure only: the connection does the I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace pagi::gateway::http1 {

struct OutputItem {
  std::string data;
  std::size_t sent = 0;    // bytes of data already written
  std::size_t credit = 0;  // app body bytes to return once written
  int fd = -1;             // file item when >= 0 (owned)
  std::uint64_t file_offset = 0;
  std::uint64_t file_left = 0;
  bool use_read_fallback = false;  // sendfile refused this file
  bool ends_response = false;
  bool ends_connection = false;

  bool is_file() const { return fd >= 0; }
  bool done() const { return is_file() ? file_left == 0 : sent == data.size(); }
};

class OutputQueue {
 public:
  OutputQueue() = default;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;
  ~OutputQueue() { clear(); }

  void append(std::string_view bytes, std::size_t credit);
  void append_file(int fd, std::uint64_t offset, std::uint64_t length);
  void mark_response_end();
  void mark_connection_end();
  // Removes the last `bytes` data bytes if none of them went out yet.
  bool retract(std::size_t bytes);

  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  OutputItem& front() { return items_.front(); }
  OutputItem& at(std::size_t i) { return items_[i]; }
  // Inserts a data item before the front (read fallback for files).
  void push_front_data(std::string data);
  OutputItem pop_front();
  // The first `n` items are in one pending write (their bytes are borrowed
  // by it): appends must not grow them.
  void set_in_flight(std::size_t n) { in_flight_ = n; }
  void clear();

 private:
  // Appends coalesce into the back item while it stays this small (or has
  // room): larger pieces start an item instead of regrowing a large buffer.
  static constexpr std::size_t kCoalesceMax = 4096;
  bool back_appendable() const;
  std::deque<OutputItem> items_;
  std::size_t in_flight_ = 0;
};

}  // namespace pagi::gateway::http1
