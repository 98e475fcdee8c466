#include "gateway/config/app_kind.hpp"

#include <system_error>

#include "gateway/config/key_schema.hpp"

namespace pagi::gateway {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_identifier(std::string_view word) {
  if (word.empty() || (word[0] >= '0' && word[0] <= '9')) return false;
  for (unsigned char c : word) {
    // Non-ASCII bytes may be part of a Unicode identifier; Python judges those.
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80)) {
      return false;
    }
  }
  return true;
}

// "a.b.c": identifiers joined by dots.
bool is_dotted_name(std::string_view text) {
  while (true) {
    const auto dot = text.find('.');
    if (!is_identifier(text.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    text.remove_prefix(dot + 1);
  }
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::filesystem::path existing_file(std::string_view app, std::string_view file,
                                    const std::filesystem::path& base_dir) {
  namespace fs = std::filesystem;
  fs::path path(file);
  if (path.is_relative()) path = base_dir / path;
  path = fs::absolute(path).lexically_normal();
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw KeyValueError("app " + quoted(app) + " not found (looked for " + path.string() + ")");
  }
  if (!fs::is_regular_file(status)) {
    throw KeyValueError("app " + quoted(app) + " is not a file (" + path.string() + ")");
  }
  return path;
}

}  // namespace

std::string resolve_cgi_target(std::string_view target, const std::filesystem::path& base_dir) {
  namespace fs = std::filesystem;
  fs::path path(target);
  if (path.is_relative()) path = base_dir / path;
  path = fs::absolute(path).lexically_normal();
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw KeyValueError("CGI target " + quoted(target) + " not found (looked for " + path.string() + ")");
  }
  if (!fs::is_regular_file(status) && !fs::is_directory(status)) {
    throw KeyValueError("CGI target " + quoted(target) + " is neither a script nor a directory (" + path.string() +
                        ")");
  }
  std::string out = path.string();
  // Keep the directory marker: the workers tell a directory of scripts by it too.
  if (fs::is_directory(status) && (out.empty() || out.back() != '/')) out += '/';
  return out;
}

std::string_view supported_app_kinds() {
  return "a Perl PAGI app file (*.pl), a PSGI file (*.psgi), a CGI script (*.cgi) or directory of them (dir/), "
         "a Python module:attribute or a Python path/to/file.py:attribute";
}

AppKind classify_app(std::string_view app) {
  if (app.empty()) throw KeyValueError("expected an app, got an empty string");
  if (ends_with(app, ".pl")) return AppKind::perl_pagi;
  if (ends_with(app, ".psgi")) return AppKind::perl_psgi;
  if (ends_with(app, ".cgi") || app.back() == '/') return AppKind::perl_cgi;
  // The attribute follows the last colon, so a file path may hold colons.
  if (const auto colon = app.rfind(':'); colon != std::string_view::npos) {
    const std::string_view target = app.substr(0, colon);
    const std::string_view attribute = app.substr(colon + 1);
    if (is_dotted_name(attribute)) {
      if (ends_with(target, ".py")) return AppKind::python_file;
      if (is_dotted_name(target)) return AppKind::python_module;
    }
  }
  throw KeyValueError("unsupported app " + quoted(app) + ": supported kinds are " + std::string(supported_app_kinds()));
}

bool is_python_app(AppKind kind) { return kind == AppKind::python_module || kind == AppKind::python_file; }

void check_interface(std::string_view app, std::string_view interface) {
  if (interface == "auto" || interface == "pagi") return;
  const bool python = is_python_app(classify_app(app));
  const bool python_interface = interface == "asgi" || interface == "wsgi";
  if (python != python_interface) {
    throw KeyValueError("interface " + quoted(interface) + " is for " + (python_interface ? "Python" : "Perl") +
                        " apps, but app " + quoted(app) + " is a " + (python ? "Python" : "Perl") + " app");
  }
}

std::string resolve_app(std::string_view app, const std::filesystem::path& base_dir) {
  switch (classify_app(app)) {
    case AppKind::perl_pagi:
    case AppKind::perl_psgi: return existing_file(app, app, base_dir).string();
    case AppKind::perl_cgi: return resolve_cgi_target(app, base_dir);
    case AppKind::python_module: return std::string(app);
    case AppKind::python_file: {
      const auto colon = app.rfind(':');
      return existing_file(app, app.substr(0, colon), base_dir).string() + std::string(app.substr(colon));
    }
  }
  return std::string(app);
}

}  // namespace pagi::gateway
