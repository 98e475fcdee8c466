#include "gateway/observability/error_log.hpp"

#include <stdexcept>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "gateway/observability/access_log_format.hpp"
#include "gateway/observability/text_escape.hpp"
#include "workers/log_context.hpp"

namespace pagi::gateway::observability {
namespace {

// The config's level names, so a filter and a line say the same word.
std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    line_.assign("{\"time\":\"");
    append_iso_time(line_, msg.time);
    line_ += "\",\"level\":\"";
    line_ += level_name(msg.level);
    line_ += "\",\"message\":";
    append_json_string(line_, std::string_view(msg.payload.data(), msg.payload.size()));
    if (const auto* context = workers::current_log_context) {
      if (!context->pool.empty()) {
        line_ += ",\"pool\":";
        append_json_string(line_, context->pool);
      }
      if (context->pid > 0) {
        line_ += ",\"pid\":";
        line_ += std::to_string(context->pid);
      }
    }
    line_ += "}\n";
    dest.append(line_.data(), line_.data() + line_.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }

 private:
  std::string line_;
};

// %* in the text pattern: "[pool NAME pid N] " for a message about a worker.
class ContextFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    const auto* context = workers::current_log_context;
    if (context == nullptr) return;
    std::string text = "[pool ";
    text += context->pool;
    if (context->pid > 0) text += " pid " + std::to_string(context->pid);
    text += "] ";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<ContextFlag>(); }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_json_log_formatter() { return std::make_unique<JsonFormatter>(); }

std::unique_ptr<spdlog::formatter> make_text_log_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<ContextFlag>('*').set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %*%v");
  return f;
}

void setup_error_log(const std::string& level, const std::string& format) {
  std::shared_ptr<spdlog::logger> logger;
  if (format == "json") {
    // No colour codes inside JSON.
    logger = std::make_shared<spdlog::logger>("pagi-gateway", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_formatter(make_json_log_formatter());
  } else if (format == "text") {
    logger = std::make_shared<spdlog::logger>("pagi-gateway", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_formatter(make_text_log_formatter());
  } else {
    throw std::invalid_argument("log_format must be text or json, not \"" + format + "\"");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);  // stderr is the log; keep lines whole and prompt
  spdlog::set_default_logger(logger);
}

}  // namespace pagi::gateway::observability
