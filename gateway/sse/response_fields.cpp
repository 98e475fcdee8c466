#include "gateway/sse/response_fields.hpp"

namespace pagi::gateway::sse {

std::vector<workers::HeaderView> response_fields(std::span<const workers::HeaderView> headers) {
  std::vector<workers::HeaderView> all;
  bool has_type = false, has_cache = false;
  for (const auto& h : headers) {
    if (h.name == "content-length") continue;
    has_type = has_type || h.name == "content-type";
    has_cache = has_cache || h.name == "cache-control";
    all.push_back(h);
  }
  if (!has_type) all.push_back({"content-type", "text/event-stream"});
  if (!has_cache) all.push_back({"cache-control", "no-cache"});
  return all;
}

}  // namespace pagi::gateway::sse
