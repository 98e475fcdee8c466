// Who a log message is about (a pool, a worker pid), for the gateway's error
// log: set around a spdlog call on the same thread (the gateway's logger
// formats synchronously), read by its formatter (gateway/observability/
// error_log.hpp), which writes it as JSON fields or a text prefix.
#pragma once

#include <string_view>

namespace pagi::workers {

struct LogContext {
  std::string_view pool;
  int pid = 0;
};

inline thread_local const LogContext* current_log_context = nullptr;

class ScopedLogContext {
 public:
  explicit ScopedLogContext(const LogContext& context) : saved_(current_log_context) { current_log_context = &context; }
  ~ScopedLogContext() { current_log_context = saved_; }
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  const LogContext* saved_;
};

}  // namespace pagi::workers
