#include "workers/stderr_reader.hpp"

#include <array>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/spdlog.h>

#include "workers/log_context.hpp"

namespace pagi::workers {
namespace {

namespace asio = boost::asio;

// Owned by its pending read: gone at EOF or when the io_context goes.
class StderrReader final : public std::enable_shared_from_this<StderrReader> {
 public:
  StderrReader(asio::io_context& io, int fd, std::string pool, int pid)
      : pipe_(io, fd), pool_(std::move(pool)), pid_(pid) {}

  // The io_context went away (the gateway is exiting) before EOF: what the
  // worker already wrote is still logged, without waiting for more.
  ~StderrReader() {
    if (done_ || !pipe_.is_open()) return;
    const int fd = pipe_.native_handle();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (;;) {
      const auto n = ::read(fd, buffer_.data(), buffer_.size());
      if (n <= 0) break;
      consume(std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
    }
    if (!line_.empty()) emit();
  }

  void read() {
    pipe_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec,
                                                                             std::size_t n) { self->on_read(ec, n); });
  }

 private:
  void on_read(boost::system::error_code ec, std::size_t n) {
    if (ec == asio::error::operation_aborted) return;
    consume(std::string_view(buffer_.data(), n));
    if (ec) {  // EOF: every writer is gone
      done_ = true;
      if (!line_.empty()) emit();
      return;
    }
    read();
  }

  void consume(std::string_view data) {
    while (!data.empty()) {
      const auto nl = data.find('\n');
      if (nl == std::string_view::npos) {
        append(data);
        break;
      }
      append(data.substr(0, nl));
      emit();
      data.remove_prefix(nl + 1);
    }
  }

  void append(std::string_view part) {
    while (!part.empty()) {
      const std::size_t room = max_stderr_line - line_.size();
      line_.append(part.substr(0, room));
      part.remove_prefix(std::min(room, part.size()));
      if (line_.size() == max_stderr_line) emit();
    }
  }

  void emit() {
    std::string_view line(line_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const LogContext context{pool_, pid_};
    const ScopedLogContext scoped(context);
    spdlog::warn("{}", line);
    line_.clear();
  }

  asio::posix::stream_descriptor pipe_;
  std::string pool_;
  int pid_;
  std::array<char, 4096> buffer_{};
  std::string line_;
  bool done_ = false;  // EOF seen
};

}  // namespace

void start_stderr_reader(asio::io_context& io, int fd, std::string pool, int pid) {
  std::make_shared<StderrReader>(io, fd, std::move(pool), pid)->read();
}

}  // namespace pagi::workers
