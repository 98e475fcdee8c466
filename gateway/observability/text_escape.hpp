// Escaping for log lines: any byte from a client or an app (paths, header
// values) must leave a line parseable. JSON strings get \" \\ \uXXXX and
// stay valid UTF-8 (a byte that is not part of valid UTF-8 is written as
// the code point of the same value, \u00XX); text formats get \xHH for
// control bytes, quotes, backslashes and bytes >= 0x7f.
#pragma once

#include <string>
#include <string_view>

namespace pagi::gateway::observability {

void append_json_string(std::string& out, std::string_view bytes);   // with the quotes
void append_text_escaped(std::string& out, std::string_view bytes);  // no quotes added

}  // namespace pagi::gateway::observability
