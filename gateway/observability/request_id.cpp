#include "gateway/observability/request_id.hpp"

#include <random>

namespace pagi::gateway::observability {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// 16 lower-case hex digits of `v` at `at` (a fixed-size buffer: no string
// growth, no capacity check per digit).
void put_hex(char* at, std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) at[i] = digits[v & 0xf];
}

}  // namespace

bool valid_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > max_request_id_length) return false;
  for (unsigned char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=' || c == '@';
    if (!ok) return false;
  }
  return true;
}

RequestIdGenerator::RequestIdGenerator() {
  std::random_device rd;
  seed_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

void RequestIdGenerator::next(std::string& out) {
  const std::uint64_t n = ++counter_;
  char id[32];
  put_hex(id, splitmix64(seed_ ^ n));
  put_hex(id + 16, splitmix64(seed_ + (n << 1)));
  out.assign(id, sizeof id);
}

RequestIdGenerator& process_request_ids() {
  static RequestIdGenerator generator;
  return generator;
}

void choose_request_id(std::span<const workers::HeaderView> headers, RequestIdGenerator& generator, std::string& out) {
  for (const auto& h : headers) {
    if (h.name == request_id_header) {
      if (valid_request_id(h.value)) {
        out.assign(h.value);
        return;
      }
      break;
    }
  }
  generator.next(out);
}

}  // namespace pagi::gateway::observability
