// The write side of an HTTP/1 connection: drains its OutputQueue into the
// socket. Data items go by async_write_some over a buffer sequence (one
// writev gathers every data item in front), one write at a time; file
// items by sendfile(2) on the non-blocking socket, waiting for writability
// on EAGAIN, or by pread + write when sendfile refuses the file
// (EINVAL/ENOSYS). An item that is fully out goes back to the connection,
// where its markers (credit, response end, connection end) take effect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/asio/generic/stream_protocol.hpp>

#include "gateway/http1/output_queue.hpp"
#include "gateway/http1/turn_batch.hpp"
#include "protocol/disconnect_reason.hpp"

namespace pagi::gateway::http1 {

class WritePump final : private TurnBatch::Task {
 public:
  // What the pump needs from its connection.
  class Host {
   public:
    // Kept by every pending write: the connection lives while it writes.
    virtual std::shared_ptr<void> pump_owner() = 0;
    virtual bool pump_open() const = 0;
    // The front item is fully out (its file is closed already).
    virtual void pump_item_done(OutputItem item) = 0;
    // The socket failed (or the file did): close the connection.
    virtual void pump_failed(DisconnectReason reason) = 0;
    // A write is pending: the write deadline starts.
    virtual void pump_waiting() = 0;
    // `bytes` reached the socket: progress renews the write deadline.
    virtual void pump_progress(std::uint64_t bytes) = 0;
    // Nothing is left to write: no write deadline.
    virtual void pump_idle() = 0;

   protected:
    ~Host() = default;
  };

  // `chunk` bounds one pread of the read fallback.
  WritePump(boost::asio::generic::stream_protocol::socket& socket, OutputQueue& out, std::size_t chunk, Host& host)
      : socket_(socket), out_(out), chunk_(chunk), host_(host), batch_(TurnBatch::of(socket.get_executor())) {}
  WritePump(const WritePump&) = delete;
  WritePump& operator=(const WritePump&) = delete;

  // Writes soon: at the end of the loop turn (gateway/http1/turn_batch.hpp),
  // so a head and the body that comes with it leave in one write.
  void schedule();
  // Writes what can be written now.
  void run();

 private:
  void run_batched() override;
  void start_write();
  void on_written(boost::system::error_code ec, std::size_t n);
  // Returns false when waiting for the socket (or when the connection failed).
  bool send_file_part(OutputItem& item);
  void complete_front();
  template <class F>
  void guarded(F&& f);

  boost::asio::generic::stream_protocol::socket& socket_;
  OutputQueue& out_;
  std::size_t chunk_;
  Host& host_;
  TurnBatch& batch_;
  // Asio writes at most 64 buffers per call (its buffer_sequence_adapter).
  static constexpr std::size_t kMaxGather = 64;
  std::vector<boost::asio::const_buffer> gather_;  // the pending write's buffers
  std::size_t gathered_ = 0;                       // their bytes
  bool writing_ = false;
  bool posted_ = false;
};

}  // namespace pagi::gateway::http1
