#include "gateway/http1/request_codec.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include "gateway/http1/head_scanner.hpp"

namespace pagi::gateway::http1 {
namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {

// Beast's basic_parser with our callbacks: it copies the head into a
// RequestHead and hands body bytes out up to a budget.
class BeastRequestParser final : public http::basic_parser<true> {
 public:
  BeastRequestParser(RequestHead& head, std::size_t max_extension_bytes)
      : head_(head), max_extension_bytes_(max_extension_bytes) {}

  std::size_t budget = 0;
  std::string_view body;            // body handed out by the last put()
  const char* input_end = nullptr;  // end of the buffer given to put()

 private:
  void on_request_impl(http::verb, string_view method, string_view target, int version, error_code&) override {
    head_.set_request_line(method, target, version);
  }
  void on_response_impl(int, string_view, int, error_code& ec) override {
    ec = http::error::bad_version;  // never called for a request parser
  }
  void on_field_impl(http::field, string_view name, string_view value, error_code&) override {
    if (!in_trailers_) head_.add_field(name, value);  // request trailers are dropped
  }
  void on_header_impl(error_code&) override { in_trailers_ = true; }
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view data, error_code&) override { return take(data); }
  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override {
    // Chunk extensions are ignored, but a stream of them is not free to send.
    extension_bytes_ += extensions.size();
    if (extension_bytes_ > max_extension_bytes_ || extensions.find_first_of("\r\n") != string_view::npos) {
      ec = http::error::bad_chunk_extension;
      return;
    }
    // Beast unfolds obs-fold in trailers; we refuse it as in the head. The
    // whole trailer section is in the input when the last chunk is seen.
    if (size == 0 && trailers_folded(std::string_view(extensions.data() + extensions.size(),
                                                      input_end - (extensions.data() + extensions.size()))))
      ec = http::error::bad_obs_fold;
  }
  std::size_t on_chunk_body_impl(std::uint64_t, string_view data, error_code&) override { return take(data); }
  void on_finish_impl(error_code&) override {}

  // `rest` starts at the CRLF ending the last-chunk line.
  static bool trailers_folded(std::string_view rest) {
    const auto end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) return false;
    for (auto pos = rest.find("\r\n"); pos < end; pos = rest.find("\r\n", pos + 2))
      if (pos + 2 < rest.size() && (rest[pos + 2] == ' ' || rest[pos + 2] == '\t')) return true;
    return false;
  }

  std::size_t take(string_view data) {
    const std::size_t n = std::min(data.size(), budget);
    budget -= n;
    body = std::string_view(data.data(), n);
    return n;
  }

  RequestHead& head_;
  std::size_t max_extension_bytes_;
  std::size_t extension_bytes_ = 0;
  bool in_trailers_ = false;
};

RequestError map_beast_error(const error_code& ec) {
  if (ec == http::error::body_limit) return RequestError::body_too_large;
  if (ec == http::error::header_limit) return RequestError::headers_too_large;
  if (ec == http::error::bad_obs_fold || ec == http::error::bad_transfer_encoding ||
      ec == http::error::bad_content_length || ec == http::error::multiple_content_length)
    return RequestError::smuggling;
  return RequestError::malformed;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

}  // namespace

class RequestCodec::Parser {
 public:
  std::optional<BeastRequestParser> beast;
};

RequestCodec::RequestCodec(const CodecLimits& limits) : limits_(limits), parser_(std::make_unique<Parser>()) {}

RequestCodec::~RequestCodec() = default;

void RequestCodec::next_message() {
  phase_ = Phase::head;
  end_pending_ = false;
  partial_head_ = false;
  parser_->beast.reset();
  head_.clear();
}

std::optional<std::uint64_t> RequestCodec::body_left() const {
  if (phase_ != Phase::body || !parser_->beast || parser_->beast->chunked()) return std::nullopt;
  const auto left = parser_->beast->content_length_remaining();
  return left ? std::optional<std::uint64_t>(*left) : std::nullopt;
}

RequestCodec::Event RequestCodec::feed(std::string_view input, std::size_t body_budget) {
  if (end_pending_) {
    end_pending_ = false;
    return {EventKind::end, 0, {}, false, RequestError::none};
  }
  switch (phase_) {
    case Phase::head: return feed_head(input);
    case Phase::body: return feed_body(input, body_budget);
    case Phase::done: break;
  }
  return {EventKind::need_more, 0, {}, false, RequestError::none};
}

RequestCodec::Event RequestCodec::feed_head(std::string_view input) {
  Event ev;
  // Robustness (RFC 9112 2.2): empty lines before a request line are skipped.
  while (!partial_head_ && input.size() >= 2 && input[0] == '\r' && input[1] == '\n') {
    input.remove_prefix(2);
    ev.consumed += 2;
  }
  if (input.empty() || (!partial_head_ && input == "\r")) return ev;
  partial_head_ = true;

  const HeadLimits hl{limits_.max_request_line, limits_.max_header_bytes, limits_.max_headers};
  const auto scan = scan_request_head(input, hl);
  if (scan.status == HeadScan::Status::need_more) return ev;
  if (scan.status == HeadScan::Status::error) {
    ev.kind = EventKind::error;
    ev.error = scan.error;
    return ev;
  }

  head_.clear();
  auto& p = parser_->beast.emplace(head_, limits_.max_header_bytes);
  p.eager(false);
  p.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(scan.head_bytes + 1, std::numeric_limits<std::uint32_t>::max())));
  if (limits_.max_body_bytes == 0)
    p.body_limit(boost::none);
  else
    p.body_limit(limits_.max_body_bytes);

  error_code ec;
  const auto used = p.put(boost::asio::buffer(input.data(), scan.head_bytes), ec);
  if (ec || !p.is_header_done() || used != scan.head_bytes) {
    ev.kind = EventKind::error;
    ev.error = ec ? map_beast_error(ec) : RequestError::malformed;
    return ev;
  }
  ev.consumed += used;
  ev.kind = EventKind::head;
  partial_head_ = false;

  head_.keep_alive = p.keep_alive();
  head_.chunked = p.chunked();
  if (!head_.chunked) {
    if (const auto cl = p.content_length()) head_.content_length = *cl;
  }
  if (head_.version() >= 11) {
    const auto expect = head_.find("expect");
    head_.expect_continue = expect && iequals_ascii(*expect, "100-continue");
  }
  if (p.is_done()) {
    phase_ = Phase::done;
    end_pending_ = true;
  } else {
    phase_ = Phase::body;
  }
  return ev;
}

RequestCodec::Event RequestCodec::feed_body(std::string_view input, std::size_t body_budget) {
  Event ev;
  auto& p = *parser_->beast;
  p.budget = body_budget;
  while (true) {
    if (input.empty()) return ev;  // need_more
    p.body = {};
    p.input_end = input.data() + input.size();
    error_code ec;
    const auto used = p.put(boost::asio::buffer(input.data(), input.size()), ec);
    ev.consumed += used;
    input.remove_prefix(used);
    if (ec == http::error::need_more) {
      // A chunk header or trailer section that does not fit the limits.
      if (input.size() > limits_.max_request_line + limits_.max_header_bytes) {
        ev.kind = EventKind::error;
        ev.error = RequestError::malformed;
      }
      return ev;
    }
    if (ec) {
      ev.kind = EventKind::error;
      ev.error = map_beast_error(ec);
      return ev;
    }
    const bool done = p.is_done();
    if (!p.body.empty()) {
      ev.kind = EventKind::body;
      ev.body = p.body;
      ev.last = done && !head_.chunked;
      if (done) {
        phase_ = Phase::done;
        end_pending_ = true;
      }
      return ev;
    }
    if (done) {
      phase_ = Phase::done;
      ev.kind = EventKind::end;
      return ev;
    }
    if (used == 0) {
      ev.kind = EventKind::blocked;
      return ev;
    }
  }
}

}  // namespace pagi::gateway::http1
