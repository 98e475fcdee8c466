#include "gateway/config/value_text.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace pagi::gateway {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// Splits "500ms" into ("500", "ms"): the unit is the trailing run of letters.
std::pair<std::string_view, std::string> split_unit(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0 && std::isalpha(static_cast<unsigned char>(text[end - 1]))) --end;
  return {trim(text.substr(0, end)), lower(text.substr(end))};
}

}  // namespace

std::optional<std::int64_t> parse_integer(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  auto [number, unit] = split_unit(trim(text));
  std::uint64_t multiplier = 1;
  if (unit == "k" || unit == "kb")
    multiplier = 1024;
  else if (unit == "m" || unit == "mb")
    multiplier = 1024 * 1024;
  else if (unit == "g" || unit == "gb")
    multiplier = 1024ull * 1024 * 1024;
  else if (!unit.empty() && unit != "b")
    return std::nullopt;
  if (number.empty() || number.front() == '-' || number.front() == '+') return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc{} || end != number.data() + number.size()) return std::nullopt;
  if (value > std::numeric_limits<std::uint64_t>::max() / multiplier) return std::nullopt;
  return value * multiplier;
}

std::optional<double> parse_seconds(std::string_view text) {
  auto [number, unit] = split_unit(trim(text));
  double scale = 1;
  if (unit == "ms")
    scale = 0.001;
  else if (unit == "m" || unit == "min")
    scale = 60;
  else if (unit == "h")
    scale = 3600;
  else if (!unit.empty() && unit != "s")
    return std::nullopt;
  if (!number.empty() && number.front() == '+') number.remove_prefix(1);
  if (number.empty()) return std::nullopt;
  // from_chars would also take "inf", "nan" and hex floats: only digits,
  // one dot and a leading minus are a number here.
  for (std::size_t i = 0; i < number.size(); ++i) {
    char c = number[i];
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || (c == '-' && i == 0))) return std::nullopt;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc{} || end != number.data() + number.size() || !std::isfinite(value)) return std::nullopt;
  return value * scale;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string word = lower(trim(text));
  if (word == "true" || word == "yes" || word == "on") return true;
  if (word == "false" || word == "no" || word == "off") return false;
  return std::nullopt;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::pair<std::uint64_t, char> units[] = {
      {1024ull * 1024 * 1024, 'g'}, {1024 * 1024, 'm'}, {1024, 'k'}};
  if (bytes != 0) {
    for (auto [unit, letter] : units) {
      if (bytes % unit == 0) return std::to_string(bytes / unit) + letter;
    }
  }
  return std::to_string(bytes);
}

std::string format_seconds(double seconds) {
  char buffer[64];
  // %.15g drops trailing zeros and prints 0.1 as 0.1, not 0.1000000000000000055.
  std::snprintf(buffer, sizeof buffer, "%.15g", seconds);
  return buffer;
}

}  // namespace pagi::gateway
