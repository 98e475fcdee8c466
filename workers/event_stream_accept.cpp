#include "workers/event_stream_accept.hpp"

#include <string_view>

namespace pagi::workers {
namespace {

bool is_event_stream(std::string_view item) {
  item = item.substr(0, item.find(';'));
  while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
  while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
  constexpr std::string_view wanted = "text/event-stream";
  if (item.size() != wanted.size()) return false;
  for (std::size_t i = 0; i < item.size(); ++i) {
    const char c = item[i] >= 'A' && item[i] <= 'Z' ? static_cast<char>(item[i] - 'A' + 'a') : item[i];
    if (c != wanted[i]) return false;
  }
  return true;
}

}  // namespace

bool accepts_event_stream(std::span<const HeaderView> headers) noexcept {
  for (const HeaderView& h : headers) {
    if (h.name != "accept") continue;
    for (std::string_view list = h.value;;) {
      const auto comma = list.find(',');
      if (is_event_stream(list.substr(0, comma))) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace pagi::workers
