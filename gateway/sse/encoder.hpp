// Sans-I/O Server-Sent Events encoder (WHATWG HTML "event stream"): one
// sse.send or sse.comment in, its text/event-stream bytes appended to a
// buffer. Framing of the HTTP body (chunks) is the transport's job.
#pragma once

#include <string>
#include <string_view>

#include "workers/downstream.hpp"

namespace pagi::gateway::sse {

// `event:`, `id:`, `retry:` lines (when present), one `data:` line per line
// of data (split on CRLF, LF and CR), then the blank line that dispatches
// the event. False, with nothing appended, when event or id contain CR, LF
// or NUL (they would forge a frame boundary; the pool already rejects them).
bool append_event(std::string& out, const workers::SseEventView& event);

// `:comment` (the colon added when missing) and the blank line. False, with
// nothing appended, when the comment contains CR or LF.
bool append_comment(std::string& out, std::string_view comment);

}  // namespace pagi::gateway::sse
