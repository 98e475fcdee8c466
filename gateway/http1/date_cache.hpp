// The HTTP-date (RFC 9110 5.6.7) of the current second, formatted once per
// second. The clock is passed in so tests can pin the time.
#pragma once

#include <ctime>
#include <string_view>

namespace pagi::gateway::http1 {

class DateCache {
 public:
  std::string_view now() { return at(std::time(nullptr)); }
  std::string_view at(std::time_t t);

 private:
  std::time_t second_ = -1;
  char text_[32] = {};
  std::size_t size_ = 0;
};

}  // namespace pagi::gateway::http1
