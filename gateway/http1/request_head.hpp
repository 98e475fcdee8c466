// One parsed HTTP/1 request head. Storage is reused from one request to the
// next on a connection (clear() keeps capacity), so a keep-alive connection
// does not allocate per request once warmed up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pagi::gateway::http1 {

class RequestHead {
 public:
  std::string_view method() const { return method_; }
  std::string_view target() const { return target_; }
  int version() const { return version_; }  // 10 or 11
  std::size_t header_count() const { return fields_.size(); }
  std::string_view header_name(std::size_t i) const {  // lower-case
    return std::string_view(arena_).substr(fields_[i].offset, fields_[i].name_len);
  }
  std::string_view header_value(std::size_t i) const {
    return std::string_view(arena_).substr(fields_[i].offset + fields_[i].name_len, fields_[i].value_len);
  }
  // The first value of a field (name lower-case), or nullopt.
  std::optional<std::string_view> find(std::string_view lower_name) const;

  bool keep_alive = false;  // what the client asked for (version rules applied)
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
  bool expect_continue = false;  // HTTP/1.1 Expect: 100-continue
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
  bool is_head_method() const { return method_ == "HEAD"; }

  void clear();
  void set_request_line(std::string_view method, std::string_view target, int version);
  void add_field(std::string_view name, std::string_view value);  // lower-cases name

 private:
  struct Field {
    std::uint32_t offset, name_len, value_len;
  };
  std::string method_;
  std::string target_;
  int version_ = 11;
  std::string arena_;
  std::vector<Field> fields_;
};

}  // namespace pagi::gateway::http1
