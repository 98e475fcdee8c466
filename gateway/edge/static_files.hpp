// Static mounts (`static:`) and the file lookups X-Sendfile/X-Accel-Redirect
// share: a URL path below a mount -> an open file under its root, with
// directory traversal impossible by construction:
//   - the path is the percent-decoded one (so %2e%2e is "..") and any "."
//     or ".." segment, dot-file segment, NUL or backslash is refused;
//   - the file is opened relative to the root's descriptor, one segment at
//     a time, so nothing outside the root is ever named;
//   - symlinks follow the mount's policy: deny (O_NOFOLLOW on every
//     segment), within_root (the opened file's real path must lie under the
//     root), or follow.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gateway/edge/file_response.hpp"
#include "gateway/edge/settings/edge_settings.hpp"

namespace pagi::gateway::edge {

enum class LookupError : std::uint8_t { none, not_found, forbidden, is_directory };

struct OpenedFile {
  FileHandle file;
  struct stat st {};
  std::string name;  // last segment (for the MIME type)
};

// Opens `relative` ("/css/site.css", decoded) under `root` (canonical,
// absolute) per `policy`. A directory is reported as is_directory unless
// `index` names a file in it, which is opened instead.
std::optional<OpenedFile> open_under_root(const std::string& root, std::string_view relative, SymlinkPolicy policy,
                                          std::string_view index, LookupError& error);

// The mount serving `path`, if any (mounts are sorted longest prefix first).
const StaticMount* find_mount(std::span<const StaticMount> mounts, std::string_view path);

struct StaticRequest {
  std::string_view method;
  std::string_view path;      // decoded
  std::string_view raw_path;  // for the trailing-slash redirect
  std::string_view query_string;
  std::span<const workers::HeaderView> headers;
};

// GET/HEAD under `mount`: the file (200/206/304/416), a redirect for a
// directory without its '/', 404, or 405 for other methods.
FileAnswer serve_static(const StaticMount& mount, const StaticRequest& request);

}  // namespace pagi::gateway::edge
