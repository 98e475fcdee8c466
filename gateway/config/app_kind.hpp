// What kinds of app a pool can run, told apart by how the app is named.
// New kinds are added here and nowhere else.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace pagi::gateway {

enum class AppKind {
  perl_pagi,      // a Perl file returning a PAGI app coderef: *.pl
  python_module,  // module:attribute, imported from the pool's app_dir (as uvicorn)
  python_file,    // path/to/file.py:attribute
  perl_psgi,      // a PSGI app file: *.psgi (run by the Perl SDK's PSGI adapter)
  perl_cgi,       // a CGI script *.cgi, or a directory of them named with a trailing '/'
};

// Every supported kind, for messages and docs.
std::string_view supported_app_kinds();

// The kind of `app`, judged by its name only. Throws KeyValueError naming
// the supported kinds.
AppKind classify_app(std::string_view app);

bool is_python_app(AppKind kind);

// Throws KeyValueError when `interface` cannot apply to `app`'s kind: the
// Python interfaces (asgi, wsgi) for a Perl app, the Perl ones (psgi, cgi)
// for a Python app. auto and pagi fit both.
void check_interface(std::string_view app, std::string_view interface);

// Checks the kind and, for the kinds that name a file, resolves a relative
// path against base_dir and checks the file exists. Returns the app as the
// workers get it: an absolute, normalised path (with ":attribute" kept for
// Python files), or module:attribute unchanged. Throws KeyValueError.
std::string resolve_app(std::string_view app, const std::filesystem::path& base_dir);

// A CGI script or a directory of scripts (the pool key `cgi`): resolved like
// an app path; a directory comes back with a trailing '/'. Throws KeyValueError.
std::string resolve_cgi_target(std::string_view target, const std::filesystem::path& base_dir);

}  // namespace pagi::gateway
