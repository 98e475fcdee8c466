#include "gateway/http1/write_pump.hpp"

#include <algorithm>
#include <cerrno>
#include <span>
#include <string>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <sys/sendfile.h>

#include "gateway/guarded.hpp"

namespace pagi::gateway::http1 {
namespace asio = boost::asio;
using boost::system::error_code;

// Exceptions never leave a handler: log and close (gateway/guarded.hpp).
template <class F>
void WritePump::guarded(F&& f) {
  gateway::guarded("http1 connection", std::forward<F>(f),
                   [this] { host_.pump_failed(DisconnectReason::server_error); });
}

void WritePump::schedule() {
  if (posted_ || writing_) return;
  posted_ = true;
  batch_.add(*this, host_.pump_owner(), socket_.get_executor());
}

void WritePump::run_batched() {
  posted_ = false;
  guarded([&] { run(); });
}

void WritePump::run() {
  while (host_.pump_open() && !writing_ && !out_.empty()) {
    auto& item = out_.front();
    if (item.done()) {
      complete_front();
      continue;
    }
    if (item.is_file()) {
      if (!send_file_part(item)) return;
      continue;
    }
    start_write();
  }
  if (out_.empty() && !writing_) host_.pump_idle();
}

void WritePump::start_write() {
  // Gathers the data items in front (head, chunk header, body, CRLF, and
  // whatever responses follow) into one writev, up to the next file item,
  // the connection's end, or kMaxGather buffers.
  gather_.clear();
  gathered_ = 0;
  std::size_t items = 0;
  while (items < out_.size() && gather_.size() < kMaxGather) {
    const auto& it = out_.at(items);
    if (it.is_file()) break;
    ++items;
    const auto bytes = it.bytes();
    if (it.sent < bytes.size()) {
      gather_.push_back(asio::buffer(bytes.data() + it.sent, bytes.size() - it.sent));
      gathered_ += bytes.size() - it.sent;
    }
    if (it.ends_connection) break;
  }
  writing_ = true;
  out_.set_in_flight(items);
  host_.pump_waiting();
  socket_.async_write_some(
      std::span<const asio::const_buffer>(gather_),
      [this, owner = host_.pump_owner()](error_code ec, std::size_t n) { guarded([&] { on_written(ec, n); }); });
}

void WritePump::on_written(error_code ec, std::size_t n) {
  writing_ = false;
  out_.set_in_flight(0);
  if (!host_.pump_open()) return;
  if (ec) {
    host_.pump_failed(DisconnectReason::write_error);
    return;
  }
  // Spread the bytes over the items in order; run() retires the done ones
  // (and their markers) from the front.
  std::size_t left = n;
  for (std::size_t i = 0; left > 0 && i < out_.size(); ++i) {
    auto& it = out_.at(i);
    if (it.is_file()) break;
    const auto take = std::min(left, it.bytes().size() - it.sent);
    it.sent += take;
    left -= take;
  }
  // A short write: the client is slow, shared bodies are copied out.
  out_.on_write_result(n >= gathered_);
  host_.pump_progress(n);
  run();
}

bool WritePump::send_file_part(OutputItem& item) {
  if (item.use_read_fallback) {
    std::string chunk(static_cast<std::size_t>(std::min<std::uint64_t>(item.file_left, chunk_)), '\0');
    const auto got = ::pread(item.fd, chunk.data(), chunk.size(), static_cast<off_t>(item.file_offset));
    if (got <= 0) {  // the file shrank or failed: the response cannot be completed
      host_.pump_failed(DisconnectReason::server_error);
      return false;
    }
    chunk.resize(static_cast<std::size_t>(got));
    item.file_offset += static_cast<std::uint64_t>(got);
    item.file_left -= static_cast<std::uint64_t>(got);
    out_.push_front_data(std::move(chunk));
    return true;
  }
  off_t offset = static_cast<off_t>(item.file_offset);
  const auto sent = ::sendfile(socket_.native_handle(), item.fd, &offset, item.file_left);
  if (sent > 0) {
    item.file_offset = static_cast<std::uint64_t>(offset);
    item.file_left -= static_cast<std::uint64_t>(sent);
    host_.pump_progress(static_cast<std::uint64_t>(sent));
    return true;
  }
  if (sent < 0 && (errno == EINVAL || errno == ENOSYS)) {
    item.use_read_fallback = true;
    return true;
  }
  if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
    writing_ = true;
    host_.pump_waiting();
    socket_.async_wait(asio::socket_base::wait_write, [this, owner = host_.pump_owner()](error_code ec) {
      writing_ = false;
      if (ec) return guarded([&] { host_.pump_failed(DisconnectReason::write_error); });
      guarded([&] { run(); });
    });
    return false;
  }
  // sent == 0 before the end: the file shrank under us.
  host_.pump_failed(sent == 0 ? DisconnectReason::server_error : DisconnectReason::write_error);
  return false;
}

void WritePump::complete_front() {
  OutputItem item = out_.pop_front();
  if (item.fd >= 0) ::close(item.fd);
  host_.pump_item_done(std::move(item));
}

}  // namespace pagi::gateway::http1
