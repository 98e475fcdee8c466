#include "gateway/config/reference_doc.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "gateway/config/command_line.hpp"
#include "gateway/config/key_schema.hpp"

namespace pagi::gateway {
namespace {

TEST(ReferenceDoc, ListsEveryKeyAndFlag) {
  std::string doc = config_reference_markdown();
  for (const auto& key : config_keys()) {
    std::string path = "`" + level_prefix(key.level) + std::string(key.name) + "`";
    EXPECT_NE(doc.find(path), std::string::npos) << path;
  }
  for (const auto& flag : command_line_flags()) {
    EXPECT_NE(doc.find(flag.name), std::string::npos) << flag.name;
  }
  EXPECT_NE(doc.find("```yaml\n"), std::string::npos);
  EXPECT_NE(doc.find("| `http.max_header_bytes` | size >= 1 | `32k` |"), std::string::npos);
  EXPECT_NE(doc.find("| `pools.<name>.lifespan` | auto \\| on \\| off | `auto` |"), std::string::npos);
}

#ifdef PAGI_SOURCE_DIR
// docs/configuration.md is generated; this keeps the committed copy in step.
// PAGI_UPDATE_DOCS=1 rewrites it instead of failing.
TEST(ReferenceDoc, CommittedDocsMatchTheKeyTable) {
  const std::string path = std::string(PAGI_SOURCE_DIR) + "/docs/configuration.md";
  const std::string generated = config_reference_markdown();
  if (const char* update = std::getenv("PAGI_UPDATE_DOCS"); update && *update && std::string(update) != "0") {
    std::ofstream(path, std::ios::binary) << generated;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_TRUE(committed.str() == generated) << path << " differs from config_reference_markdown(); regenerate it with\n"
                                            << "  PAGI_UPDATE_DOCS=1 ./unit_config --gtest_filter=ReferenceDoc.*\n"
                                            << "or pagi-gateway --print-config-reference > docs/configuration.md";
}
#endif

}  // namespace
}  // namespace pagi::gateway
