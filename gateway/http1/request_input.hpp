// The read side of an HTTP/1 connection: the read buffer and the request
// codec over it. Reading waits (backpressure, never an error) while the
// buffer is full (max_request_line + max_header_bytes + 4 bytes; while a
// body is read, up to kBodyReadMax when the app's window allows), or while
// `max_pipelined` complete requests are buffered behind the one being
// answered. Those are found by a second codec that parses ahead, each byte
// once, and stops at that count. A data structure only: the connection
// does the I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "gateway/http1/request_codec.hpp"
#include "gateway/http_settings.hpp"

namespace pagi::gateway::http1 {

class RequestInput {
 public:
  explicit RequestInput(const HttpSettings& settings);
  RequestInput(const RequestInput&) = delete;
  RequestInput& operator=(const RequestInput&) = delete;

  // Most bytes one read takes while a request body is read and the app's
  // window allows as much: a 64 KiB upload arrives in one read and reaches
  // the app as one body event.
  static constexpr std::size_t kBodyReadMax = 256 * 1024;

  std::size_t capacity() const { return cap_; }
  // The buffer's bound for the next reads: the base capacity, raised to
  // min(`window`, kBodyReadMax) while a body is read (`window` is the body
  // the app can still take). Body beyond the window stays buffered, never
  // delivered, exactly as with the base capacity.
  void set_body_window(std::size_t window);
  // False when reading must wait: the buffer is full, or (`answering`: a
  // request is being answered) max_pipelined complete requests wait behind it.
  bool may_read(bool answering);
  // The last read took all the room it had: the socket may hold more.
  bool last_read_full() const { return last_read_full_; }
  std::size_t buffered_bytes() const { return buf_.size(); }
  // Complete requests parsed ahead, behind the one being answered; never
  // more than max_pipelined.
  std::size_t pipelined() const { return ahead_ends_.size(); }
  // Room for the next read, and the bytes it got.
  // Only while no read is pending: it may move the buffer.
  boost::asio::mutable_buffer prepare();
  void commit(std::size_t n) {
    buf_.commit(n);
    last_read_full_ = n == prepared_;
  }

  // The codec's next event over the buffered bytes; what it used leaves
  // the buffer. Body pieces (views into the buffer) are cut to `body_budget`.
  RequestCodec::Event next(std::size_t body_budget);
  const RequestCodec& codec() const { return codec_; }
  // The current request is answered: the next one may be parsed.
  void next_message();

  // Everything buffered leaves: for whoever takes the socket over.
  std::string take_rest();
  // Everything buffered is dropped (draining before a close).
  void discard() { consume(buf_.size()); }

 private:
  std::string_view buffered() const;
  void consume(std::size_t n);
  void parse_ahead();

  RequestCodec codec_;
  std::size_t cap_;
  std::size_t limit_;            // cap_, or more while a body is read
  std::size_t prepared_ = 0;     // room of the last prepare()
  bool last_read_full_ = false;  // it took all of it: more may be waiting
  boost::beast::flat_buffer buf_;

  // Parsing ahead. Positions count bytes from the connection's first byte;
  // the buffer starts at `consumed_`.
  RequestCodec ahead_;
  std::size_t max_ahead_;
  std::uint64_t consumed_ = 0;
  std::uint64_t ahead_pos_ = 0;           // where `ahead_` stopped
  std::deque<std::uint64_t> ahead_ends_;  // ends of complete requests not yet consumed
  bool ahead_failed_ = false;             // the main codec will report the error
};

}  // namespace pagi::gateway::http1
