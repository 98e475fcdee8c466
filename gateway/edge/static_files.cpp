#include "gateway/edge/static_files.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace pagi::gateway::edge {
namespace {

// Splits into segments, refusing anything that could leave the root or
// reveal a hidden file. Empty segments ("//") are skipped.
bool safe_segments(std::string_view path, std::vector<std::string>& out) {
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const auto seg = path.substr(start, slash - start);
    start = slash + 1;
    if (seg.empty()) continue;
    if (seg.front() == '.') return false;  // ".", "..", ".git", ".env"
    out.emplace_back(seg);
  }
  return true;
}

bool under_root(const std::string& root, int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char real[4096];
  const auto n = ::readlink(link, real, sizeof real - 1);
  if (n <= 0) return false;
  const std::string_view path(real, static_cast<std::size_t>(n));
  return path == root || (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/') ||
         root == "/";
}

int open_segment(int dir, const std::string& name, SymlinkPolicy policy, bool last) {
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  if (policy == SymlinkPolicy::deny) flags |= O_NOFOLLOW;
  if (!last) flags |= O_DIRECTORY;
  return ::openat(dir, name.c_str(), flags);
}

}  // namespace

std::optional<OpenedFile> open_under_root(const std::string& root, std::string_view relative, SymlinkPolicy policy,
                                          std::string_view index, LookupError& error) {
  error = LookupError::not_found;
  std::vector<std::string> segments;
  if (!safe_segments(relative, segments)) {
    error = LookupError::forbidden;
    return std::nullopt;
  }
  FileHandle dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return std::nullopt;
  FileHandle current = std::move(dir);
  std::string name;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    FileHandle next(open_segment(current.get(), segments[i], policy, i + 1 == segments.size()));
    if (!next) {
      if (errno == ELOOP || errno == ENOTDIR) error = errno == ELOOP ? LookupError::forbidden : LookupError::not_found;
      return std::nullopt;
    }
    current = std::move(next);
    name = segments[i];
  }
  OpenedFile out;
  if (::fstat(current.get(), &out.st) != 0) return std::nullopt;
  if (S_ISDIR(out.st.st_mode)) {
    if (index.empty() || !relative.ends_with("/")) {
      error = LookupError::is_directory;
      return std::nullopt;
    }
    FileHandle file(open_segment(current.get(), std::string(index), policy, true));
    if (!file || ::fstat(file.get(), &out.st) != 0) {
      error = errno == ELOOP ? LookupError::forbidden : LookupError::not_found;
      return std::nullopt;
    }
    current = std::move(file);
    name = std::string(index);
  }
  if (!S_ISREG(out.st.st_mode)) return std::nullopt;
  if (policy == SymlinkPolicy::within_root && !under_root(root, current.get())) {
    error = LookupError::forbidden;
    return std::nullopt;
  }
  out.file = std::move(current);
  out.name = std::move(name);
  error = LookupError::none;
  return out;
}

const StaticMount* find_mount(std::span<const StaticMount> mounts, std::string_view path) {
  for (const auto& m : mounts) {
    if (m.prefix.empty()) return &m;
    if (path.starts_with(m.prefix) && (path.size() == m.prefix.size() || path[m.prefix.size()] == '/')) return &m;
  }
  return nullptr;
}

FileAnswer serve_static(const StaticMount& mount, const StaticRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    auto a = plain_answer(405, "Method Not Allowed");
    a.headers.emplace_back("allow", "GET, HEAD");
    return a;
  }
  // "/static" (the mount itself, without '/') is its directory: redirected.
  const std::string_view relative = request.path.substr(mount.prefix.size());
  LookupError error;
  auto opened = open_under_root(mount.root, relative, mount.symlinks, mount.index, error);
  if (!opened) {
    if (error == LookupError::is_directory && !relative.ends_with("/") && !mount.index.empty()) {
      FileAnswer a = plain_answer(301, "Moved Permanently");
      std::string location(request.raw_path);
      location += "/";
      if (!request.query_string.empty()) location += "?" + std::string(request.query_string);
      a.headers.emplace_back("location", location);
      return a;
    }
    return plain_answer(404, "Not Found");
  }
  FileRepresentation rep;
  rep.content_type = mime_type(opened->name);
  rep.max_age = mount.max_age;
  rep.st = opened->st;
  rep.file = std::move(opened->file);
  if (mount.precompressed) {
    rep.vary_encoding = true;
    std::string_view accept;
    for (const auto& h : request.headers)
      if (h.name == "accept-encoding") accept = h.value;
    for (std::string_view coding : {std::string_view("br"), std::string_view("gzip")}) {
      if (accept.empty() || !accepts_encoding(accept, coding)) continue;
      // The sibling sits next to the file: ".../x.css" -> ".../x.css.br".
      std::string sibling(relative);
      if (sibling.ends_with("/")) sibling += mount.index;
      sibling += coding == "br" ? ".br" : ".gz";
      LookupError ignored;
      if (auto compressed = open_under_root(mount.root, sibling, mount.symlinks, {}, ignored)) {
        rep.file = std::move(compressed->file);
        rep.st = compressed->st;
        rep.content_encoding = coding;
        break;
      }
    }
  }
  return answer_for_file(std::move(rep), request.headers);
}

}  // namespace pagi::gateway::edge
