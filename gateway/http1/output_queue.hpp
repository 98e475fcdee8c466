// The bytes a connection owes its client, in order: response bytes (small
// appends coalesce into one buffer; a large one, such as a body, gets an item
// of its own; the write pump gathers consecutive items into one writev), file ranges
// for sendfile, and markers (credit to return, response end, connection end)
// that take effect when everything before them reached the socket.
// A large response body may be queued without a copy, as SharedBytes of the
// worker's read chunk (append_shared); how long such items may pin chunks is
// bounded, see append_shared and on_write_result.
// A data structure only: the connection does the I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "protocol/frame_codec.hpp"

namespace pagi::gateway::http1 {

struct OutputItem {
  std::string data;
  protocol::SharedBytes shared;  // when not empty, the item's bytes (data is empty)
  std::size_t sent = 0;          // bytes of data already written
  std::size_t credit = 0;        // app body bytes to return once written
  int fd = -1;                   // file item when >= 0 (owned)
  std::uint64_t file_offset = 0;
  std::uint64_t file_left = 0;
  bool use_read_fallback = false;  // sendfile refused this file
  bool ends_response = false;
  bool ends_connection = false;

  bool is_file() const { return fd >= 0; }
  bool is_shared() const { return !shared.empty(); }
  std::string_view bytes() const { return is_shared() ? shared.view() : std::string_view(data); }
  bool done() const { return is_file() ? file_left == 0 : sent == bytes().size(); }
};

class OutputQueue {
 public:
  // Distinct read chunks the queued shared items may pin at once; a body
  // from yet another chunk is copied. Each chunk is a worker connection's
  // read buffer (256 KiB, more for a larger frame).
  static constexpr std::size_t kMaxPinnedChunks = 2;

  OutputQueue() = default;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;
  ~OutputQueue() { clear(); }

  void append(std::string_view bytes, std::size_t credit);
  // Queues `bytes` by reference (no copy) while the client keeps up and at
  // most kMaxPinnedChunks chunks are pinned; otherwise copies them.
  void append_shared(const protocol::SharedBytes& bytes, std::size_t credit);
  void append_file(int fd, std::uint64_t offset, std::uint64_t length);
  void mark_response_end();
  void mark_connection_end();
  // Removes the last `bytes` data bytes if none of them went out yet.
  bool retract(std::size_t bytes);

  // What the last write did: `complete` when it took every byte offered.
  // A short write means the client is slower than its worker: the shared
  // items still queued are copied out (releasing their chunks, which the
  // worker connection wants back) and later bodies are copied until a
  // write completes again. Call with nothing in flight.
  void on_write_result(bool complete);

  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  OutputItem& front() { return items_.front(); }
  OutputItem& at(std::size_t i) { return items_[i]; }
  // Inserts a data item before the front (read fallback for files).
  void push_front_data(std::string data);
  OutputItem pop_front();
  // The first `n` items are in one pending write (their bytes are borrowed
  // by it): appends must not grow them, and shared ones stay as they are.
  void set_in_flight(std::size_t n) { in_flight_ = n; }
  void clear();

  // Distinct chunks the shared items hold now (for tests).
  std::size_t pinned_chunks() const { return pinned_runs_; }
  bool stalled() const { return stalled_; }

 private:
  // Appends coalesce into the back item while it stays this small (or has
  // room): larger pieces start an item instead of regrowing a large buffer.
  static constexpr std::size_t kCoalesceMax = 4096;
  // A new item for a smaller piece starts with this capacity.
  static constexpr std::size_t kSmallItem = 1024;
  bool back_appendable() const;
  // Turns the shared items from `first` on into copies.
  void copy_out_shared(std::size_t first);
  std::deque<OutputItem> items_;
  std::size_t in_flight_ = 0;
  // Runs of consecutive shared items (in queue order) from one chunk; a
  // chunk's bodies arrive together, so runs count the chunks pinned.
  std::size_t pinned_runs_ = 0;
  const void* last_shared_storage_ = nullptr;  // the newest run's chunk
  bool stalled_ = false;
};

}  // namespace pagi::gateway::http1
