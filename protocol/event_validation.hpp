// Checks every event a worker sends before the gateway acts on it. Workers are
// untrusted: an SDK validates what the app sends, but the gateway checks again
// at the wire, since header bytes end up in HTTP framing.
#pragma once

#include <string_view>
#include <system_error>

#include "protocol/pagi.capnp.h"

namespace pagi::protocol {

enum class EventError {
  ok = 0,
  wrong_direction,   // a gateway->worker message sent by a worker
  bad_status,        // status outside 200..599 for a final response
  odd_header_list,   // headers list with an odd number of entries
  bad_header_name,   // empty, or not an RFC 9110 token
  bad_header_value,  // CR, LF, NUL or another control char except HTAB
  bad_file,          // file path empty/relative, or offset/length negative
  bad_text,          // text not valid UTF-8 where UTF-8 is required
  bad_field,         // anything else (e.g. sse id with CR/LF/NUL)
  bad_scope,         // worker-level message on a scope, or an event on scope 0
  unknown_event,     // a union tag this gateway does not know
  malformed,         // a pointer Cap'n Proto rejected (out of bounds, limits)
};
const std::error_category& event_category() noexcept;
std::error_code make_error_code(EventError e) noexcept;

bool valid_header_name(std::string_view name) noexcept;
bool valid_header_value(std::string_view value) noexcept;

// Structural validation of one message received from a worker. State rules
// (order of events within a scope) are the pool's business, not this one's.
// Reads every pointer field of the message once, so Cap'n Proto's lazy bounds
// checks all happen here and become EventError::malformed instead of an
// exception later. docs/protocol.md lists every rule.
std::error_code validate_worker_message(wire::Envelope::Reader message) noexcept;

// True for the union members a worker may send (hello, credit, heartbeat,
// scopeEnd and the PAGI send events).
bool is_worker_message(wire::Envelope::Which which) noexcept;

}  // namespace pagi::protocol

template <>
struct std::is_error_code_enum<pagi::protocol::EventError> : std::true_type {};
