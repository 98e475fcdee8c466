// Borrowed views of a decoded worker frame's Data/Text fields and header
// list: valid only while the frame they came from is.
#pragma once

#include <string_view>
#include <vector>

#include <capnp/list.h>

#include "workers/scope_request.hpp"

namespace pagi::workers {

inline std::string_view view(capnp::Data::Reader d) { return {reinterpret_cast<const char*>(d.begin()), d.size()}; }
inline std::string_view view(capnp::Text::Reader t) { return {t.begin(), t.size()}; }

// Validation guarantees an even count.
inline void to_header_views(capnp::List<capnp::Data>::Reader list, std::vector<HeaderView>& out) {
  out.clear();
  for (unsigned i = 0; i + 1 < list.size(); i += 2) out.push_back({view(list[i]), view(list[i + 1])});
}

}  // namespace pagi::workers
