#include "protocol/event_validation.hpp"

#include <array>
#include <cstdint>
#include <limits>

#include <kj/exception.h>

#include "protocol/utf8.hpp"

namespace pagi::protocol {

namespace {

using wire::Envelope;
using HeaderList = capnp::List<capnp::Data>::Reader;

class EventCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pagi.event"; }
  std::string message(int ev) const override {
    switch (static_cast<EventError>(ev)) {
      case EventError::ok: return "ok";
      case EventError::wrong_direction: return "gateway-to-worker message sent by a worker";
      case EventError::bad_status: return "status outside 200..599";
      case EventError::odd_header_list: return "header list with an odd number of entries";
      case EventError::bad_header_name: return "invalid header name";
      case EventError::bad_header_value: return "invalid header value";
      case EventError::bad_file: return "invalid file body";
      case EventError::bad_text: return "text is not valid UTF-8";
      case EventError::bad_field: return "invalid event field";
      case EventError::bad_scope: return "message on the wrong scope";
      case EventError::unknown_event: return "unknown event";
      case EventError::malformed: return "malformed message";
    }
    return "unknown event error";
  }
};

// RFC 9110 tchar: "!#$%&'*+-.^_`|~", digits and letters.
constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kTokenChar = make_token_table();

// Field value bytes: VCHAR, SP, HTAB and obs-text; no other control byte.
constexpr std::array<bool, 256> make_value_table() {
  std::array<bool, 256> t{};
  t['\t'] = true;
  for (int c = 0x20; c <= 0x7E; ++c) t[c] = true;
  for (int c = 0x80; c <= 0xFF; ++c) t[c] = true;
  return t;
}
constexpr auto kValueChar = make_value_table();

std::string_view view(capnp::Data::Reader d) { return {reinterpret_cast<const char*>(d.begin()), d.size()}; }
std::string_view view(capnp::Text::Reader t) { return {t.begin(), t.size()}; }

bool has_line_break_or_nul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}
bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Largest close reason that fits a control frame (125 bytes minus the code).
constexpr std::size_t kMaxCloseReasonBytes = 123;

// RFC 6455 section 7.4: codes an endpoint may put in a Close frame.
bool sendable_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
    case 1012:
    case 1013:
    case 1014: return true;
    default: return false;
  }
}

EventError check_headers(HeaderList headers) {
  const auto n = headers.size();
  if (n % 2 != 0) return EventError::odd_header_list;
  for (unsigned i = 0; i < n; i += 2) {
    if (!valid_header_name(view(headers[i]))) return EventError::bad_header_name;
    if (!valid_header_value(view(headers[i + 1]))) return EventError::bad_header_value;
  }
  return EventError::ok;
}

EventError check_start(wire::ResponseStart::Reader start) {
  if (start.getStatus() < 200 || start.getStatus() > 599) return EventError::bad_status;
  return check_headers(start.getHeaders());
}

EventError check_body(wire::ResponseBody::Reader body) {
  const auto data = body.getBody();
  const auto file = view(body.getFile());
  if (body.getLength() < -1) return EventError::bad_file;
  if (body.getOffset() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
    return EventError::bad_file;
  }
  // A shared body ring span carries no bytes of its own (the pool checks the span).
  if (body.getRingLength() > 0 && (data.size() != 0 || !file.empty())) return EventError::bad_field;
  if (file.empty()) return EventError::ok;
  // A path goes to open(): absolute, no embedded NUL, and no inline body.
  if (file.front() != '/' || file.find('\0') != std::string_view::npos) return EventError::bad_file;
  if (data.size() != 0) return EventError::bad_file;
  return EventError::ok;
}

EventError check_ws_accept(wire::WebsocketAccept::Reader accept) {
  const auto subprotocol = view(accept.getSubprotocol());
  // It becomes a Sec-WebSocket-Protocol value, which RFC 6455 makes a token.
  if (accept.getHasSubprotocol() && !valid_header_name(subprotocol)) return EventError::bad_field;
  return check_headers(accept.getHeaders());
}

EventError check_ws_message(wire::Message::Reader message) {
  const auto bytes = message.getBytes();
  const auto text = view(message.getText());
  if (message.getIsText()) {
    if (bytes.size() != 0) return EventError::bad_field;
    if (!valid_utf8(text)) return EventError::bad_text;
  } else if (!text.empty()) {
    return EventError::bad_field;
  }
  return EventError::ok;
}

EventError check_ws_close(wire::WebsocketClose::Reader close) {
  const auto reason = view(close.getReason());
  if (!sendable_close_code(close.getCode())) return EventError::bad_field;
  if (reason.size() > kMaxCloseReasonBytes) return EventError::bad_field;
  if (!valid_utf8(reason)) return EventError::bad_text;
  return EventError::ok;
}

EventError check_sse_comment(std::string_view comment) {
  if (!valid_utf8(comment)) return EventError::bad_text;
  // One comment line: a line break would let the text forge an event.
  if (has_line_break(comment)) return EventError::bad_field;
  return EventError::ok;
}

EventError check_sse_event(wire::SseEvent::Reader event) {
  const auto data = view(event.getData());
  const auto name = view(event.getEvent());
  const auto id = view(event.getId());
  if (event.getRetry() < -1) return EventError::bad_field;
  if (has_line_break_or_nul(name) || has_line_break_or_nul(id)) return EventError::bad_field;
  if (!valid_utf8(data) || !valid_utf8(name) || !valid_utf8(id)) return EventError::bad_text;
  return EventError::ok;
}

// Touches a Text field so its bounds and terminator are checked here.
void touch(capnp::Text::Reader) {}

EventError check(Envelope::Reader m) {
  switch (m.which()) {
    case Envelope::HELLO: {
      auto hello = m.getHello();
      touch(hello.getSdkName());
      touch(hello.getSdkVersion());
      touch(hello.getPool());
      touch(hello.getApp());
      return EventError::ok;
    }
    case Envelope::CREDIT: m.getCredit(); return EventError::ok;
    case Envelope::HEARTBEAT: m.getHeartbeat(); return EventError::ok;
    case Envelope::SCOPE_END: touch(m.getScopeEnd().getMessage()); return EventError::ok;

    case Envelope::HTTP_RESPONSE_START: return check_start(m.getHttpResponseStart());
    case Envelope::HTTP_RESPONSE_BODY: return check_body(m.getHttpResponseBody());
    case Envelope::HTTP_RESPONSE_TRAILERS: return check_headers(m.getHttpResponseTrailers().getHeaders());
    case Envelope::HTTP_FULLFLUSH: return EventError::ok;
    case Envelope::HTTP_RESPONSE_EARLY_HINT: return check_headers(m.getHttpResponseEarlyHint().getHeaders());

    case Envelope::WEBSOCKET_ACCEPT: return check_ws_accept(m.getWebsocketAccept());
    case Envelope::WEBSOCKET_SEND: return check_ws_message(m.getWebsocketSend());
    case Envelope::WEBSOCKET_CLOSE: return check_ws_close(m.getWebsocketClose());
    case Envelope::WEBSOCKET_KEEPALIVE:
      touch(m.getWebsocketKeepalive().getComment());  // unused for websocket
      return EventError::ok;
    case Envelope::WEBSOCKET_HTTP_RESPONSE_START: return check_start(m.getWebsocketHttpResponseStart());
    case Envelope::WEBSOCKET_HTTP_RESPONSE_BODY: m.getWebsocketHttpResponseBody().getBody(); return EventError::ok;

    case Envelope::SSE_START: return check_start(m.getSseStart());
    case Envelope::SSE_SEND: return check_sse_event(m.getSseSend());
    case Envelope::SSE_COMMENT: return check_sse_comment(view(m.getSseComment()));
    case Envelope::SSE_KEEPALIVE: return check_sse_comment(view(m.getSseKeepalive().getComment()));
    case Envelope::SSE_CLOSE:
      touch(m.getSseClose());  // server-side reason, never sent to the client
      return EventError::ok;
    case Envelope::SSE_HTTP_RESPONSE_START: return check_start(m.getSseHttpResponseStart());
    case Envelope::SSE_HTTP_RESPONSE_BODY: m.getSseHttpResponseBody().getBody(); return EventError::ok;

    case Envelope::LIFESPAN_STARTUP_COMPLETE:
    case Envelope::LIFESPAN_SHUTDOWN_COMPLETE: return EventError::ok;
    case Envelope::LIFESPAN_STARTUP_FAILED: touch(m.getLifespanStartupFailed()); return EventError::ok;
    case Envelope::LIFESPAN_SHUTDOWN_FAILED: touch(m.getLifespanShutdownFailed()); return EventError::ok;
    case Envelope::LIFESPAN_UNSUPPORTED: touch(m.getLifespanUnsupported()); return EventError::ok;

    default: return EventError::unknown_event;  // is_worker_message() ran first
  }
}

}  // namespace

const std::error_category& event_category() noexcept {
  static const EventCategory category;
  return category;
}

std::error_code make_error_code(EventError e) noexcept { return {static_cast<int>(e), event_category()}; }

bool valid_header_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!kTokenChar[c]) return false;
  }
  return true;
}

bool valid_header_value(std::string_view value) noexcept {
  for (unsigned char c : value) {
    if (!kValueChar[c]) return false;
  }
  return true;
}

bool is_worker_message(Envelope::Which which) noexcept {
  switch (which) {
    case Envelope::HELLO:
    case Envelope::CREDIT:
    case Envelope::HEARTBEAT:
    case Envelope::SCOPE_END: return true;
    default: return which >= Envelope::HTTP_RESPONSE_START && which <= Envelope::LIFESPAN_UNSUPPORTED;
  }
}

std::error_code validate_worker_message(Envelope::Reader message) noexcept {
  try {
    const auto which = message.which();
    if (which > Envelope::LIFESPAN_UNSUPPORTED) return EventError::unknown_event;
    if (!is_worker_message(which)) return EventError::wrong_direction;
    // Hello and heartbeat concern the whole worker; everything else a scope.
    const bool worker_level = which == Envelope::HELLO || which == Envelope::HEARTBEAT;
    if (worker_level != (message.getScope() == 0)) return EventError::bad_scope;
    return check(message);
  } catch (const kj::Exception&) {
    return EventError::malformed;
  } catch (...) {
    return EventError::malformed;
  }
}

}  // namespace pagi::protocol
