// Request-target to PAGI path keys (Www spec: path, raw_path, query_string).
// `path` is the percent-decoded raw path as UTF-8 text: when the decoded bytes
// are not valid UTF-8, each byte is taken as one character (Latin-1) and
// re-encoded, so the app still sees every original byte as a character.
#pragma once

#include <string>
#include <string_view>

namespace pagi::gateway::http1 {

struct TargetParts {
  std::string_view raw_path;      // as sent, without the query
  std::string_view query_string;  // bytes after the first '?', "" if none
};

// Origin-form "/a/b?x", absolute-form "http://h/a?x" (path part) or "*".
TargetParts split_target(std::string_view target) noexcept;

// "%41" -> 'A'; a '%' not followed by two hex digits stays as is; '+' stays.
void percent_decode(std::string_view in, std::string& out);

bool is_valid_utf8(std::string_view bytes) noexcept;

// Appends `bytes` read as Latin-1 to `out` as UTF-8.
void latin1_to_utf8(std::string_view bytes, std::string& out);

// The whole rule: decode, keep if UTF-8, else Latin-1 -> UTF-8.
void decode_path(std::string_view raw_path, std::string& out);

}  // namespace pagi::gateway::http1
