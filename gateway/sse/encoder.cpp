#include "gateway/sse/encoder.hpp"

namespace pagi::gateway::sse {
namespace {

bool safe_field(std::string_view v) { return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

}  // namespace

bool append_event(std::string& out, const workers::SseEventView& e) {
  if ((e.has_event && !safe_field(e.event)) || (e.has_id && !safe_field(e.id))) return false;
  if (e.has_event) out.append("event: ").append(e.event).append("\n");
  if (e.has_id) out.append("id: ").append(e.id).append("\n");
  if (e.retry >= 0) out.append("retry: ").append(std::to_string(e.retry)).append("\n");
  std::string_view data = e.data;
  for (;;) {
    const auto cut = data.find_first_of("\r\n");
    out.append("data: ").append(data.substr(0, cut)).append("\n");
    if (cut == std::string_view::npos) break;
    const bool crlf = data[cut] == '\r' && cut + 1 < data.size() && data[cut + 1] == '\n';
    data.remove_prefix(cut + (crlf ? 2 : 1));
  }
  out.append("\n");
  return true;
}

bool append_comment(std::string& out, std::string_view comment) {
  if (comment.find_first_of("\r\n") != std::string_view::npos) return false;
  if (comment.empty() || comment.front() != ':') out.push_back(':');
  out.append(comment).append("\n\n");
  return true;
}

}  // namespace pagi::gateway::sse
