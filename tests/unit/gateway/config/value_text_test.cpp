#include "gateway/config/value_text.hpp"

#include <gtest/gtest.h>

namespace pagi::gateway {
namespace {

TEST(ValueText, IntegersAreDecimalOnly) {
  EXPECT_EQ(parse_integer("42"), 42);
  EXPECT_EQ(parse_integer("-3"), -3);
  EXPECT_EQ(parse_integer("+7"), 7);
  EXPECT_EQ(parse_integer(" 5 "), 5);
  EXPECT_FALSE(parse_integer("two"));
  EXPECT_FALSE(parse_integer("1.5"));
  EXPECT_FALSE(parse_integer("1e3"));
  EXPECT_FALSE(parse_integer("12abc"));
  EXPECT_FALSE(parse_integer(""));
  EXPECT_FALSE(parse_integer("99999999999999999999"));
}

TEST(ValueText, SizesTakeBinaryUnits) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("64k"), 65536u);
  EXPECT_EQ(parse_size("64K"), 65536u);
  EXPECT_EQ(parse_size("8kb"), 8192u);
  EXPECT_EQ(parse_size("16m"), 16u * 1024 * 1024);
  EXPECT_EQ(parse_size("1g"), 1024ull * 1024 * 1024);
  EXPECT_EQ(parse_size("100b"), 100u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("1.5m"));
  EXPECT_FALSE(parse_size("12x"));
  EXPECT_FALSE(parse_size("k"));
  EXPECT_FALSE(parse_size("99999999999999999g"));
}

TEST(ValueText, SecondsTakeFractionsAndUnits) {
  EXPECT_EQ(parse_seconds("30"), 30.0);
  EXPECT_EQ(parse_seconds("0.5"), 0.5);
  EXPECT_EQ(parse_seconds("500ms"), 0.5);
  EXPECT_EQ(parse_seconds("30s"), 30.0);
  EXPECT_EQ(parse_seconds("5m"), 300.0);
  EXPECT_EQ(parse_seconds("1.5h"), 5400.0);
  EXPECT_EQ(parse_seconds("-1"), -1.0);  // parses; the schema rejects negatives
  EXPECT_FALSE(parse_seconds("soon"));
  EXPECT_FALSE(parse_seconds("inf"));
  EXPECT_FALSE(parse_seconds("nan"));
  EXPECT_FALSE(parse_seconds("0x10"));
  EXPECT_FALSE(parse_seconds("10d"));
  EXPECT_FALSE(parse_seconds(""));
}

TEST(ValueText, Booleans) {
  EXPECT_EQ(parse_bool("true"), true);
  EXPECT_EQ(parse_bool("Yes"), true);
  EXPECT_EQ(parse_bool("on"), true);
  EXPECT_EQ(parse_bool("false"), false);
  EXPECT_EQ(parse_bool("NO"), false);
  EXPECT_EQ(parse_bool("off"), false);
  EXPECT_FALSE(parse_bool("maybe"));
  EXPECT_FALSE(parse_bool("1"));
}

TEST(ValueText, FormatsReadBack) {
  EXPECT_EQ(format_size(32768), "32k");
  EXPECT_EQ(format_size(16 * 1024 * 1024), "16m");
  EXPECT_EQ(format_size(1024ull * 1024 * 1024), "1g");
  EXPECT_EQ(format_size(100), "100");
  EXPECT_EQ(format_size(0), "0");
  EXPECT_EQ(format_size(1536), "1536");
  for (std::uint64_t n : {0ull, 1ull, 1000ull, 1024ull, 1536ull, 4294967295ull}) {
    EXPECT_EQ(parse_size(format_size(n)), n);
  }
  EXPECT_EQ(format_seconds(30), "30");
  EXPECT_EQ(format_seconds(0.1), "0.1");
  EXPECT_EQ(parse_seconds(format_seconds(0.1)), 0.1);
}

}  // namespace
}  // namespace pagi::gateway
