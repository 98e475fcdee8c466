// The read side of an HTTP/1 connection: the read buffer and the request
// codec over it. The buffer holds max_request_line + max_header_bytes (+4)
// bytes; when it is full the connection stops reading until the codec
// consumes some (backpressure). A data structure only: the connection
// does the I/O.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "gateway/http1/request_codec.hpp"
#include "gateway/http_settings.hpp"

namespace pagi::gateway::http1 {

class RequestInput {
 public:
  explicit RequestInput(const HttpSettings& settings);
  RequestInput(const RequestInput&) = delete;
  RequestInput& operator=(const RequestInput&) = delete;

  std::size_t capacity() const { return cap_; }
  // False when the buffer is full: reading waits.
  bool may_read() const { return buf_.size() < cap_; }
  // Room for the next read, and the bytes it got.
  boost::asio::mutable_buffer prepare() { return buf_.prepare(cap_ - buf_.size()); }
  void commit(std::size_t n) { buf_.commit(n); }

  // The codec's next event over the buffered bytes; what it used leaves
  // the buffer. Body pieces (views into the buffer) are cut to `body_budget`.
  RequestCodec::Event next(std::size_t body_budget);
  const RequestCodec& codec() const { return codec_; }
  // The current request is answered: the next one may be parsed.
  void next_message() { codec_.next_message(); }

  // Everything buffered leaves: for whoever takes the socket over.
  std::string take_rest();
  // Everything buffered is dropped (draining before a close).
  void discard() { buf_.consume(buf_.size()); }

 private:
  std::string_view buffered() const;

  RequestCodec codec_;
  std::size_t cap_;
  boost::beast::flat_buffer buf_;
};

}  // namespace pagi::gateway::http1
