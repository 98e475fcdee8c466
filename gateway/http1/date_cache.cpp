#include "gateway/http1/date_cache.hpp"

#include <cstdio>

namespace pagi::gateway::http1 {

std::string_view DateCache::at(std::time_t t) {
  if (t != second_) {
    // Formatted by hand: strftime's names follow the process locale.
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&t, &tm);
    const int n =
        std::snprintf(text_, sizeof text_, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
                      months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    size_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    second_ = t;
  }
  return {text_, size_};
}

}  // namespace pagi::gateway::http1
