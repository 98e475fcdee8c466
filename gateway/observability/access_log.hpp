// The access log: an ExchangeObserver rendering one line per finished
// exchange (AccessLogFormat) and handing it to a LogWriter thread.
#pragma once

#include <memory>
#include <string>

#include "gateway/observability/access_log_format.hpp"
#include "gateway/observability/exchange_observer.hpp"
#include "gateway/observability/log_writer.hpp"
#include "gateway/observability/ops_settings.hpp"

namespace pagi::gateway::observability {

class AccessLog final : public ExchangeObserver {
 public:
  // nullptr when settings.path is "off". Throws std::invalid_argument (bad
  // format) or std::system_error (file cannot be opened).
  static std::unique_ptr<AccessLog> create(const AccessLogSettings& settings);

  AccessLog(AccessLogFormat format, std::unique_ptr<LogWriter> writer)
      : format_(std::move(format)), writer_(std::move(writer)) {}

  void on_exchange_end(const ExchangeRecord& record) override;
  bool wants_headers() const override { return format_.uses_headers(); }
  // SIGUSR1: reopen the file (logrotate moved it).
  void reopen() { writer_->reopen(); }
  const LogWriter& writer() const { return *writer_; }

 private:
  AccessLogFormat format_;
  std::unique_ptr<LogWriter> writer_;
  std::string line_;  // reused
};

}  // namespace pagi::gateway::observability
