// Strict UTF-8 validation (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), for text the spec requires to be UTF-8.
#pragma once

#include <string_view>

namespace pagi::protocol {

bool valid_utf8(std::string_view text) noexcept;

}  // namespace pagi::protocol
