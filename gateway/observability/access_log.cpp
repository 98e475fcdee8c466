#include "gateway/observability/access_log.hpp"

namespace pagi::gateway::observability {

std::unique_ptr<AccessLog> AccessLog::create(const AccessLogSettings& settings) {
  if (settings.path == "off" || settings.path.empty()) return nullptr;
  auto format = AccessLogFormat::compile(settings.format);
  auto writer = std::make_unique<LogWriter>(settings.path, settings.flush_interval, settings.buffer_bytes);
  return std::make_unique<AccessLog>(std::move(format), std::move(writer));
}

void AccessLog::on_exchange_end(const ExchangeRecord& record) {
  line_.clear();
  format_.render(record, line_);
  writer_->write(line_);
}

}  // namespace pagi::gateway::observability
