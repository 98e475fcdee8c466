// The response for one regular file, decided by the gateway itself: MIME
// type, ETag and Last-Modified, conditional requests (If-None-Match,
// If-Modified-Since -> 304), single byte ranges (Range/If-Range -> 206, or
// 416). Shared by static mounts and X-Sendfile/X-Accel-Redirect.
// No sockets: the caller sends the file (sendfile) or the small body.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "workers/scope_request.hpp"

namespace pagi::gateway::edge {

// An open file descriptor, closed on destruction.
class FileHandle {
 public:
  FileHandle() = default;
  explicit FileHandle(int fd) : fd_(fd) {}
  FileHandle(FileHandle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileHandle& operator=(FileHandle&& o) noexcept;
  ~FileHandle();
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct FileAnswer {
  std::uint16_t status = 404;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;                                          // small bodies the gateway writes (errors, redirects)
  FileHandle file;                                           // when set: send [offset, offset+length) of it
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// A short text/plain answer (404, 405, 416 ...).
FileAnswer plain_answer(std::uint16_t status, std::string_view text);

// "text/css; charset=utf-8" etc. by the file name's extension;
// application/octet-stream when unknown.
std::string_view mime_type(std::string_view file_name);

std::string http_date(std::int64_t unix_seconds);

struct FileRepresentation {
  FileHandle file;
  struct stat st {};
  std::string_view content_type;      // of the original file
  std::string_view content_encoding;  // "br" / "gzip" for a precompressed sibling
  bool vary_encoding = false;         // the answer depends on Accept-Encoding
  std::uint32_t max_age = 0;          // Cache-Control max-age; 0 = none
};

// The answer for GET/HEAD of `rep` given the request's headers: 200, 206,
// 304 or 416, with the file attached where a body is due.
FileAnswer answer_for_file(FileRepresentation rep, std::span<const workers::HeaderView> request_headers);

// Whether `accept_encoding` accepts `coding` (q > 0, or via "*").
bool accepts_encoding(std::string_view accept_encoding, std::string_view coding);

}  // namespace pagi::gateway::edge
