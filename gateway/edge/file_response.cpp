#include "gateway/edge/file_response.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>
#include <unistd.h>

namespace pagi::gateway::edge {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view header(std::span<const workers::HeaderView> headers, std::string_view name) {
  for (const auto& h : headers)
    if (h.name == name) return h.value;
  return {};
}

bool has_header(std::span<const workers::HeaderView> headers, std::string_view name) {
  for (const auto& h : headers)
    if (h.name == name) return true;
  return false;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  // IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"); anything else is
  // ignored, which only costs a full response.
  if (text.size() != 29) return std::nullopt;
  std::string s(text);
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Opaque-tag comparison: weak for If-None-Match, strong for If-Range.
bool etag_matches(std::string_view list, std::string_view ours, bool weak) {
  const auto opaque = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const auto tag = trim(list.substr(start, comma - start));
    if (tag == "*") return true;
    if (weak ? opaque(tag) == opaque(ours) : tag == ours) return true;
    start = comma + 1;
  }
  return false;
}

struct ByteRange {
  std::uint64_t first = 0, last = 0;
};
enum class RangeResult { none, ok, unsatisfiable };

// One range of "bytes=a-b" / "a-" / "-n". Several ranges, or anything
// unparsable, is treated as no Range at all (a full 200 is always allowed).
RangeResult parse_range(std::string_view value, std::uint64_t size, ByteRange& out) {
  value = trim(value);
  if (!value.starts_with("bytes=")) return RangeResult::none;
  const auto spec = trim(value.substr(6));
  if (spec.find(',') != std::string_view::npos) return RangeResult::none;
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::none;
  const auto a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  if (a.empty()) {
    const auto n = parse_u64(b);
    if (!n) return RangeResult::none;
    if (*n == 0 || size == 0) return RangeResult::unsatisfiable;
    out.first = size - std::min(*n, size);
    out.last = size - 1;
    return RangeResult::ok;
  }
  const auto first = parse_u64(a);
  if (!first) return RangeResult::none;
  std::uint64_t last = size ? size - 1 : 0;
  if (!b.empty()) {
    const auto l = parse_u64(b);
    if (!l || *l < *first) return RangeResult::none;
    last = std::min(*l, last);
  }
  if (*first >= size) return RangeResult::unsatisfiable;
  out.first = *first;
  out.last = last;
  return RangeResult::ok;
}

std::string hex(std::uint64_t v) {
  char buf[17];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  return std::string(buf, end);
}

}  // namespace

FileHandle& FileHandle::operator=(FileHandle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

FileAnswer plain_answer(std::uint16_t status, std::string_view text) {
  FileAnswer a;
  a.status = status;
  a.body = std::string(text) + "\n";
  a.headers.emplace_back("content-type", "text/plain; charset=utf-8");
  a.headers.emplace_back("content-length", std::to_string(a.body.size()));
  return a;
}

std::string http_date(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::string_view mime_type(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> table[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"txt", "text/plain; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/vnd.microsoft.icon"},
      {"bmp", "image/bmp"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"mp3", "audio/mpeg"},
      {"ogg", "audio/ogg"},
      {"wav", "audio/wav"},
      {"md", "text/markdown; charset=utf-8"},
      {"webmanifest", "application/manifest+json"},
  };
  const auto slash = name.rfind('/');
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
  std::string ext(name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& [e, type] : table)
    if (e == ext) return type;
  return "application/octet-stream";
}

bool accepts_encoding(std::string_view accept, std::string_view coding) {
  std::optional<bool> star;
  std::size_t start = 0;
  while (start <= accept.size()) {
    auto comma = accept.find(',', start);
    if (comma == std::string_view::npos) comma = accept.size();
    auto item = trim(accept.substr(start, comma - start));
    start = comma + 1;
    bool zero = false;
    if (const auto semi = item.find(';'); semi != std::string_view::npos) {
      auto params = trim(item.substr(semi + 1));
      item = trim(item.substr(0, semi));
      if (params.starts_with("q=") || params.starts_with("Q=")) {
        const auto q = params.substr(2);
        zero = q.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    std::string lower(item);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == coding) return !zero;
    if (lower == "*") star = !zero;
  }
  return star.value_or(false);
}

FileAnswer answer_for_file(FileRepresentation rep, std::span<const workers::HeaderView> req) {
  FileAnswer a;
  const auto size = static_cast<std::uint64_t>(rep.st.st_size);
  const std::int64_t mtime_ns = static_cast<std::int64_t>(rep.st.st_mtim.tv_sec) * 1000000000 + rep.st.st_mtim.tv_nsec;
  std::string etag = "\"" + hex(size) + "-" + hex(static_cast<std::uint64_t>(mtime_ns));
  if (!rep.content_encoding.empty()) etag += "-" + std::string(rep.content_encoding);
  etag += "\"";
  const std::string last_modified = http_date(rep.st.st_mtim.tv_sec);

  auto common = [&](FileAnswer& out) {
    out.headers.emplace_back("etag", etag);
    out.headers.emplace_back("last-modified", last_modified);
    if (rep.max_age) out.headers.emplace_back("cache-control", "max-age=" + std::to_string(rep.max_age));
    if (rep.vary_encoding) out.headers.emplace_back("vary", "accept-encoding");
  };

  // Conditional GET (RFC 9110 13.2.2): If-None-Match first; If-Modified-Since only without it.
  bool not_modified = false;
  if (has_header(req, "if-none-match")) {
    not_modified = etag_matches(header(req, "if-none-match"), etag, true);
  } else if (const auto ims = parse_http_date(header(req, "if-modified-since"))) {
    not_modified = rep.st.st_mtim.tv_sec <= *ims;
  }
  if (not_modified) {
    a.status = 304;
    common(a);
    return a;
  }

  ByteRange range;
  auto range_result = has_header(req, "range") ? parse_range(header(req, "range"), size, range) : RangeResult::none;
  if (range_result != RangeResult::none && has_header(req, "if-range")) {
    const auto if_range = trim(header(req, "if-range"));
    const bool current = if_range.starts_with("\"") ? if_range == etag : if_range == last_modified;
    if (!current) range_result = RangeResult::none;  // changed since: the whole new file
  }
  if (range_result == RangeResult::unsatisfiable) {
    a = plain_answer(416, "Range Not Satisfiable");
    a.headers.emplace_back("content-range", "bytes */" + std::to_string(size));
    return a;
  }
  a.status = range_result == RangeResult::ok ? 206 : 200;
  a.offset = range_result == RangeResult::ok ? range.first : 0;
  a.length = range_result == RangeResult::ok ? range.last - range.first + 1 : size;
  a.headers.emplace_back("content-type", std::string(rep.content_type));
  if (!rep.content_encoding.empty()) a.headers.emplace_back("content-encoding", std::string(rep.content_encoding));
  a.headers.emplace_back("content-length", std::to_string(a.length));
  a.headers.emplace_back("accept-ranges", "bytes");
  if (a.status == 206)
    a.headers.emplace_back("content-range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                                                "/" + std::to_string(size));
  common(a);
  a.file = std::move(rep.file);
  return a;
}

}  // namespace pagi::gateway::edge
