#include "gateway/http1/request_input.hpp"

#include <algorithm>
#include <cstdint>

namespace pagi::gateway::http1 {

RequestInput::RequestInput(const HttpSettings& settings)
    : codec_(CodecLimits{settings.max_request_line, settings.max_header_bytes, settings.max_headers,
                         settings.max_body_bytes}),
      cap_(settings.max_request_line + settings.max_header_bytes + 4),
      limit_(cap_),
      buf_(cap_ + kBodyReadMax),
      ahead_(CodecLimits{settings.max_request_line, settings.max_header_bytes, settings.max_headers,
                         settings.max_body_bytes}),
      max_ahead_(settings.max_pipelined) {}

std::string_view RequestInput::buffered() const {
  const auto d = buf_.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

RequestCodec::Event RequestInput::next(std::size_t body_budget) {
  const auto ev = codec_.feed(buffered(), body_budget);
  consume(ev.consumed);
  return ev;
}

void RequestInput::set_body_window(std::size_t window) { limit_ = std::max(cap_, std::min(window, kBodyReadMax)); }

void RequestInput::next_message() {
  codec_.next_message();
  limit_ = cap_;
}

boost::asio::mutable_buffer RequestInput::prepare() {
  // A large body read grew the buffer: give the memory back once the body
  // is over. Only here, with no read pending (a read holds the buffer).
  if (limit_ == cap_ && buf_.capacity() > cap_ && buf_.size() <= cap_) buf_.shrink_to_fit();
  std::size_t room = limit_ - buf_.size();
  // The buffer grows past its base size only after a read filled all the
  // room it had: a body that fits (a 64 KiB upload) costs no reallocation.
  const std::size_t unmoved = std::max(buf_.capacity(), cap_) - buf_.size();
  if (!last_read_full_ && unmoved > 0) room = std::min(room, unmoved);
  prepared_ = room;
  return buf_.prepare(room);
}

std::string RequestInput::take_rest() {
  std::string rest(buffered());
  consume(buf_.size());
  return rest;
}

void RequestInput::consume(std::size_t n) {
  buf_.consume(n);
  consumed_ += n;
  while (!ahead_ends_.empty() && ahead_ends_.front() <= consumed_) ahead_ends_.pop_front();
}

bool RequestInput::may_read(bool answering) {
  if (buf_.size() >= limit_) return false;
  if (!answering) return true;
  // Bytes behind the answered request are known only once it is complete.
  if (codec_.message_done()) parse_ahead();
  return ahead_ends_.size() < max_ahead_;
}

void RequestInput::parse_ahead() {
  if (ahead_pos_ < consumed_) {
    // The main codec went past the look-ahead (it parsed a request that
    // was still partial here): start again where it stands, at a boundary.
    ahead_.next_message();
    ahead_pos_ = consumed_;
    ahead_failed_ = false;
  }
  while (!ahead_failed_ && ahead_ends_.size() < max_ahead_) {
    const auto ev = ahead_.feed(buffered().substr(ahead_pos_ - consumed_), SIZE_MAX);
    ahead_pos_ += ev.consumed;
    switch (ev.kind) {
      case RequestCodec::EventKind::head:
      case RequestCodec::EventKind::body: continue;
      case RequestCodec::EventKind::end:
        ahead_ends_.push_back(ahead_pos_);
        ahead_.next_message();
        continue;
      case RequestCodec::EventKind::error: ahead_failed_ = true; return;
      case RequestCodec::EventKind::need_more:
      case RequestCodec::EventKind::blocked: return;
    }
  }
}

}  // namespace pagi::gateway::http1
