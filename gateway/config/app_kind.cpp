#include "gateway/config/app_kind.hpp"

#include <system_error>

#include "gateway/config/key_schema.hpp"

namespace pagi::gateway {

std::string_view supported_app_kinds() { return "a Perl PAGI app file (*.pl)"; }

AppKind classify_app(std::string_view app) {
  if (app.empty()) throw KeyValueError("expected an app, got an empty string");
  if (app.size() > 3 && app.substr(app.size() - 3) == ".pl") return AppKind::perl_pagi;
  throw KeyValueError("unsupported app \"" + std::string(app) + "\": supported kinds are " +
                      std::string(supported_app_kinds()));
}

std::string resolve_app(std::string_view app, const std::filesystem::path& base_dir) {
  namespace fs = std::filesystem;
  classify_app(app);
  fs::path path(app);
  if (path.is_relative()) path = base_dir / path;
  path = fs::absolute(path).lexically_normal();
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw KeyValueError("app \"" + std::string(app) + "\" not found (looked for " + path.string() + ")");
  }
  if (!fs::is_regular_file(status)) {
    throw KeyValueError("app \"" + std::string(app) + "\" is not a file (" + path.string() + ")");
  }
  return path.string();
}

}  // namespace pagi::gateway
