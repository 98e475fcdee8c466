#include "gateway/observability/request_id.hpp"

#include <set>

#include <gtest/gtest.h>

namespace pagi::gateway::observability {
namespace {

TEST(RequestId, ValidIdsAreKept) {
  RequestIdGenerator gen;
  std::string out;
  const workers::HeaderView headers[] = {{"host", "x"}, {"x-request-id", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"}};
  choose_request_id(headers, gen, out);
  EXPECT_EQ(out, "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
}

TEST(RequestId, InvalidOrMissingIdsAreReplaced) {
  RequestIdGenerator gen;
  std::string out;
  for (std::string_view bad : {std::string_view(""), std::string_view("has space"), std::string_view("quote\""),
                               std::string_view("new\nline"), std::string_view("\xff")}) {
    const workers::HeaderView headers[] = {{"x-request-id", bad}};
    choose_request_id(headers, gen, out);
    EXPECT_EQ(out.size(), 32u) << bad;
    EXPECT_TRUE(valid_request_id(out));
  }
  EXPECT_FALSE(valid_request_id(std::string(129, 'a')));
  EXPECT_TRUE(valid_request_id(std::string(128, 'a')));
  choose_request_id({}, gen, out);
  EXPECT_EQ(out.size(), 32u);
}

TEST(RequestId, GeneratedIdsDiffer) {
  RequestIdGenerator gen;
  std::set<std::string> seen;
  std::string out;
  for (int i = 0; i < 10000; ++i) {
    gen.next(out);
    ASSERT_EQ(out.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(out);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
}  // namespace pagi::gateway::observability
