#include "gateway/sse/detection.hpp"

#include <string_view>

namespace pagi::gateway::sse {
namespace {

bool is_event_stream(std::string_view item) {
  const auto semi = item.find(';');
  std::string_view type = item.substr(0, semi);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  static constexpr std::string_view wanted = "text/event-stream";
  if (type.size() != wanted.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != wanted[i]) return false;
  }
  return true;
}

}  // namespace

bool accepts_event_stream(std::span<const workers::HeaderView> headers) noexcept {
  for (const auto& h : headers) {
    if (h.name != "accept") continue;
    std::string_view list = h.value;
    while (!list.empty()) {
      const auto comma = list.find(',');
      if (is_event_stream(list.substr(0, comma))) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace pagi::gateway::sse
