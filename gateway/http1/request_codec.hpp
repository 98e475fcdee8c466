// Sans-I/O HTTP/1 request codec: fed bytes, it reports one event per call —
// a complete head, a piece of de-chunked body, the end of the message, or an
// error carrying the status to answer. It never holds more than the caller's
// buffer: body is only consumed up to the caller's budget (the app's request
// window), so the caller can stop reading when the app stops taking bytes.
//
// Parsing is Beast's basic_parser, preceded by head_scanner's strict checks
// (request line length, header limits, smuggling defenses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "gateway/http1/request_error.hpp"
#include "gateway/http1/request_head.hpp"

namespace pagi::gateway::http1 {

struct CodecLimits {
  std::size_t max_request_line = 0;
  std::size_t max_header_bytes = 0;
  std::size_t max_headers = 0;
  std::uint64_t max_body_bytes = 0;  // 0 = unlimited
};

class RequestCodec {
 public:
  enum class EventKind {
    need_more,  // feed more bytes (after `consumed`)
    head,       // head() is complete; has_body() tells whether body follows
    body,       // `body` is a piece of request body (views the input)
    end,        // the message is complete; call next_message() before the next
    blocked,    // body bytes are waiting but the budget is 0
    error,      // `error` says which; the connection must close after answering
  };
  struct Event {
    EventKind kind = EventKind::need_more;
    std::size_t consumed = 0;  // input bytes used, whatever the kind
    std::string_view body;     // kind == body
    bool last = false;         // kind == body: this piece ends the body
    RequestError error = RequestError::none;
  };

  explicit RequestCodec(const CodecLimits& limits);
  ~RequestCodec();
  RequestCodec(const RequestCodec&) = delete;
  RequestCodec& operator=(const RequestCodec&) = delete;

  // `input` is everything buffered and not yet consumed. Body pieces are cut
  // to `body_budget` bytes.
  Event feed(std::string_view input, std::size_t body_budget);

  const RequestHead& head() const { return head_; }
  bool head_done() const { return phase_ == Phase::body || phase_ == Phase::done; }
  bool message_done() const { return phase_ == Phase::done && !end_pending_; }
  // Ready for the next pipelined request.
  void next_message();
  // True when bytes of a message have been consumed but it is not complete.
  bool mid_message() const { return phase_ == Phase::body || partial_head_; }
  // Body bytes still to come when the body has a Content-Length (nullopt
  // when chunked or outside the body).
  std::optional<std::uint64_t> body_left() const;

 private:
  class Parser;
  enum class Phase { head, body, done };

  Event feed_head(std::string_view input);
  Event feed_body(std::string_view input, std::size_t body_budget);

  CodecLimits limits_;
  RequestHead head_;
  std::unique_ptr<Parser> parser_;
  Phase phase_ = Phase::head;
  bool end_pending_ = false;
  bool partial_head_ = false;
};

}  // namespace pagi::gateway::http1
