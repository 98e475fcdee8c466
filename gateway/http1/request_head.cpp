#include "gateway/http1/request_head.hpp"

namespace pagi::gateway::http1 {

std::optional<std::string_view> RequestHead::find(std::string_view lower_name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i)
    if (header_name(i) == lower_name) return header_value(i);
  return std::nullopt;
}

void RequestHead::clear() {
  method_.clear();
  target_.clear();
  version_ = 11;
  arena_.clear();
  fields_.clear();
  keep_alive = false;
  chunked = false;
  content_length.reset();
  expect_continue = false;
}

void RequestHead::set_request_line(std::string_view method, std::string_view target, int version) {
  method_.assign(method);
  target_.assign(target);
  version_ = version;
}

void RequestHead::add_field(std::string_view name, std::string_view value) {
  const auto offset = static_cast<std::uint32_t>(arena_.size());
  for (char c : name) arena_.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  arena_.append(value);
  fields_.push_back({offset, static_cast<std::uint32_t>(name.size()), static_cast<std::uint32_t>(value.size())});
}

}  // namespace pagi::gateway::http1
