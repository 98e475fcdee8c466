#include "gateway/http1/request_input.hpp"

namespace pagi::gateway::http1 {

RequestInput::RequestInput(const HttpSettings& settings)
    : codec_(CodecLimits{settings.max_request_line, settings.max_header_bytes, settings.max_headers,
                         settings.max_body_bytes}),
      cap_(settings.max_request_line + settings.max_header_bytes + 4),
      buf_(cap_) {}

std::string_view RequestInput::buffered() const {
  const auto d = buf_.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

RequestCodec::Event RequestInput::next(std::size_t body_budget) {
  const auto ev = codec_.feed(buffered(), body_budget);
  buf_.consume(ev.consumed);
  return ev;
}

std::string RequestInput::take_rest() {
  std::string rest(buffered());
  buf_.consume(buf_.size());
  return rest;
}

}  // namespace pagi::gateway::http1
