// Request ids: an incoming `x-request-id` is kept when it is safe to pass on
// (log lines, headers, JSON), otherwise the gateway makes one. The id reaches
// the app in the scope (ScopeOpen.requestId) and, by config, the client in a
// response header.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "workers/scope_request.hpp"

namespace pagi::gateway::observability {

inline constexpr std::string_view request_id_header = "x-request-id";
inline constexpr std::size_t max_request_id_length = 128;

// 1..128 bytes of letters, digits and - _ . : / + = @ (what UUIDs, W3C trace
// ids and the usual proxies' ids are made of; nothing that needs escaping).
bool valid_request_id(std::string_view id) noexcept;

class RequestIdGenerator {
 public:
  RequestIdGenerator();  // seeded from the OS once per generator
  // 32 lower-case hex digits, different for every call.
  void next(std::string& out);

 private:
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
};

// The generator of this process (the gateway runs one event-loop thread).
RequestIdGenerator& process_request_ids();

// The request's valid x-request-id into `out`, else a fresh one.
void choose_request_id(std::span<const workers::HeaderView> headers, RequestIdGenerator& generator, std::string& out);

}  // namespace pagi::gateway::observability
