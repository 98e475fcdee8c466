// What kinds of app a pool can run, told apart by how the app is named.
// Later kinds (.psgi, Python module:attr) are added here and nowhere else.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace pagi::gateway {

enum class AppKind {
  perl_pagi,  // a Perl file returning a PAGI app coderef: *.pl
};

// "a Perl PAGI app file (*.pl)" - every supported kind, for messages/docs.
std::string_view supported_app_kinds();

// The kind of `app`, judged by its name only. Throws KeyValueError naming
// the supported kinds.
AppKind classify_app(std::string_view app);

// Checks the kind, resolves a relative path against base_dir and checks the
// file exists. Returns the absolute, normalised path. Throws KeyValueError.
std::string resolve_app(std::string_view app, const std::filesystem::path& base_dir);

}  // namespace pagi::gateway
