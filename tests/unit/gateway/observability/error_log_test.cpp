#include "gateway/observability/error_log.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include "workers/log_context.hpp"

namespace pagi::gateway::observability {
namespace {

std::string format(spdlog::formatter& f, spdlog::level::level_enum level, std::string_view text) {
  spdlog::details::log_msg msg(spdlog::source_loc{}, "t", level, text);
  spdlog::memory_buf_t out;
  f.format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(ErrorLog, JsonLinesHaveStableFieldsAndEscapeEveryByte) {
  auto f = make_json_log_formatter();
  const std::string hostile = std::string("q\"\\\t\x01\xff", 6) + " end";
  const auto line = format(*f, spdlog::level::warn, hostile);
  ASSERT_EQ(line.back(), '\n');
  ASSERT_EQ(line.find('\n'), line.size() - 1);  // one line
  const auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v.at("level").as_string(), "warn");
  EXPECT_EQ(v.at("message").as_string(), "q\"\\\t\x01\xc3\xbf end");  // \xff as U+00FF
  EXPECT_EQ(v.at("time").as_string().size(), 24u);                    // 2026-12-01T05:45:32.123Z
  EXPECT_FALSE(v.contains("pool"));
  EXPECT_FALSE(v.contains("pid"));
}

TEST(ErrorLog, WorkerContextBecomesFieldsOrAPrefix) {
  const workers::LogContext context{"web", 4242};
  const workers::ScopedLogContext scoped(context);
  auto json = make_json_log_formatter();
  const auto v = boost::json::parse(format(*json, spdlog::level::err, "boom")).as_object();
  EXPECT_EQ(v.at("level").as_string(), "error");
  EXPECT_EQ(v.at("pool").as_string(), "web");
  EXPECT_EQ(v.at("pid").as_int64(), 4242);
  auto text = make_text_log_formatter();
  const auto line = format(*text, spdlog::level::info, "boom");
  EXPECT_NE(line.find("[info] [pool web pid 4242] boom"), std::string::npos) << line;
}

TEST(ErrorLog, TextWithoutContextIsThePlainLine) {
  auto text = make_text_log_formatter();
  const auto line = format(*text, spdlog::level::info, "listening on x");
  EXPECT_NE(line.find("[info] listening on x"), std::string::npos) << line;
  EXPECT_EQ(line.find("[pool"), std::string::npos);
}

TEST(ErrorLog, UnknownFormatIsRejected) { EXPECT_THROW(setup_error_log("info", "xml"), std::invalid_argument); }

}  // namespace
}  // namespace pagi::gateway::observability
