// An in-process worker that speaks the real wire format (Cap'n Proto frames
// over a socket) for pool tests. It records every message the gateway sends,
// answers the worker-level conversation automatically (hello, lifespan,
// heartbeat, shutdown) unless told otherwise, and lets a test send any
// event, valid or not.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <capnp/message.h>

#include "protocol/frame_codec.hpp"
#include "protocol/pagi.capnp.h"

namespace boost::asio {
class io_context;
}

namespace pagi::fakes {

struct FakeWorkerOptions {
  std::uint32_t concurrency = 0;  // sent in hello
  bool send_hello = true;         // as soon as the socket is up
  // Answer lifespanStartup: "" = complete; otherwise failed with this message.
  std::string lifespan_failure;
  bool lifespan_unsupported = false;  // answer lifespanUnsupported instead
  bool answer_lifespan = true;        // false: never answer startup (timeout tests)
  bool answer_heartbeats = true;
  bool exit_on_shutdown = true;  // `shutdown` -> close socket and exit 0
  bool exit_on_eof = true;       // false: stay alive when the gateway's end closes
  bool answer_lifespan_shutdown = true;
  // Serve every http open with 200 "hello" + scopeEnd (for process tests).
  bool serve_hello = false;
  std::uint32_t scope_types = wire::SCOPE_BIT_HTTP;  // hello.scopeTypes
  bool skip_response_done = false;                   // hello.skipResponseDone
  // Launch with a shared body ring of the pool's body_ring bytes, mapped
  // writable here (send_ring_body).
  bool body_ring = false;
};

class FakeWorker : public std::enable_shared_from_this<FakeWorker> {
 public:
  FakeWorker(boost::asio::io_context& io, int fd, FakeWorkerOptions options);
  ~FakeWorker();

  void start();
  // Called once the fake "process" ends (shutdown received, or killed).
  std::function<void(int wait_status)> on_exit;
  // Extra behaviour per received message, after the automatic answers.
  std::function<void(FakeWorker&, wire::Envelope::Reader)> on_message;

  // Everything the gateway sent, in order (copies: readable any number of
  // times, unlike a Frame whose traversal budget is sized for one pass).
  std::size_t received_count() const { return received_.size(); }
  wire::Envelope::Reader received(std::size_t i) const;
  // Messages of one kind (e.g. wire::Envelope::OPEN), oldest first.
  std::vector<wire::Envelope::Reader> received_of(wire::Envelope::Which which) const;
  std::size_t count_of(wire::Envelope::Which which) const { return received_of(which).size(); }
  // Order of kinds received (for sequence checks).
  std::vector<wire::Envelope::Which> kinds() const;
  // Total bytes of credit the gateway returned for a scope.
  std::uint64_t credit_for(std::uint64_t scope) const;
  std::size_t reads() const { return reads_; }  // read syscalls that returned data

  // Sending. Each appends a frame and flushes at the end of the loop turn.
  void send_hello(std::uint32_t protocol_version = wire::PROTOCOL_VERSION);
  void send_start(std::uint64_t scope, std::uint16_t status,
                  std::vector<std::pair<std::string, std::string>> headers = {}, bool trailers = false);
  void send_body(std::uint64_t scope, std::string_view body, bool more);
  void send_file(std::uint64_t scope, std::string_view path, std::uint64_t offset, std::int64_t length);
  // Copies `body` into the body ring at `position` (mod its size, as much as
  // fits) and sends the span {position, length}; `length` defaults to the
  // body's size (tests of bad spans pass their own).
  void send_ring_body(std::uint64_t scope, std::uint64_t position, std::string_view body, bool more,
                      std::int64_t length = -1);
  // The ring as the launcher created it: a writable mapping of `size` bytes.
  void map_body_ring(int fd, std::uint32_t size);
  // bodyRingRelease positions received, last first (0: none yet).
  std::uint64_t ring_released() const;
  void send_trailers(std::uint64_t scope, std::vector<std::pair<std::string, std::string>> headers);
  void send_credit(std::uint64_t scope, std::uint32_t bytes);
  void send_scope_end(std::uint64_t scope, bool failed = false, std::string_view message = "");
  void send_lifespan(std::uint64_t scope, wire::Envelope::Which which, std::string_view message = "");
  void send_heartbeat(std::uint64_t seq);
  // Arbitrary bytes (bad frames).
  void send_raw(std::string_view bytes);
  // Build any message: `fill` sets the envelope.
  void send(const std::function<void(wire::Envelope::Builder)>& fill);

  // Ends the fake process with this wait status (closes the socket).
  void exit(int wait_status);
  bool exited() const { return exited_; }
  std::uint64_t lifespan_scope() const { return lifespan_scope_; }
  FakeWorkerOptions& options() { return options_; }

 private:
  struct Io;
  void read();
  void handle(wire::Envelope::Reader message);
  void flush();

  boost::asio::io_context& io_;
  std::unique_ptr<Io> io_state_;
  FakeWorkerOptions options_;
  protocol::FrameReader reader_;
  std::deque<std::unique_ptr<capnp::MallocMessageBuilder>> received_;
  std::string out_;
  std::string writing_;
  bool write_in_flight_ = false;
  bool exited_ = false;
  std::uint64_t lifespan_scope_ = 0;
  std::size_t reads_ = 0;
  char* ring_map_ = nullptr;
  std::uint32_t ring_size_ = 0;
};

// Runs a FakeWorker on PAGI_WORKER_FD in this process until its socket
// closes or it is told to shut down; for exec'd test children. Returns the
// exit code.
int run_fake_worker_process(FakeWorkerOptions options);

}  // namespace pagi::fakes
