#include "tests/fakes/fake_worker.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <sys/mman.h>
#include <sys/wait.h>

namespace pagi::fakes {

namespace asio = boost::asio;

namespace {

capnp::Data::Reader as_data(std::string_view s) { return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()}; }

void set_headers(capnp::List<capnp::Data>::Builder list,
                 const std::vector<std::pair<std::string, std::string>>& headers) {
  for (std::size_t i = 0; i < headers.size(); ++i) {
    list.set(static_cast<unsigned>(2 * i), as_data(headers[i].first));
    list.set(static_cast<unsigned>(2 * i + 1), as_data(headers[i].second));
  }
}

}  // namespace

struct FakeWorker::Io {
  explicit Io(asio::io_context& io) : socket(io) {}
  asio::local::stream_protocol::socket socket;
};

FakeWorker::FakeWorker(asio::io_context& io, int fd, FakeWorkerOptions options)
    : io_(io), io_state_(std::make_unique<Io>(io)), options_(std::move(options)) {
  io_state_->socket.assign(asio::local::stream_protocol(), fd);
}

FakeWorker::~FakeWorker() {
  boost::system::error_code ignored;
  io_state_->socket.close(ignored);
  if (ring_map_ != nullptr) ::munmap(ring_map_, ring_size_);
}

void FakeWorker::map_body_ring(int fd, std::uint32_t size) {
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return;
  ring_map_ = static_cast<char*>(map);
  ring_size_ = size;
}

void FakeWorker::send_ring_body(std::uint64_t scope, std::uint64_t position, std::string_view body, bool more,
                                std::int64_t length) {
  if (ring_map_ != nullptr) {
    const std::size_t offset = position % ring_size_;
    std::memcpy(ring_map_ + offset, body.data(), std::min<std::size_t>(body.size(), ring_size_ - offset));
  }
  send([&](wire::Envelope::Builder e) {
    e.setScope(scope);
    auto b = e.initHttpResponseBody();
    b.setRingPosition(position);
    b.setRingLength(static_cast<std::uint32_t>(length >= 0 ? length : static_cast<std::int64_t>(body.size())));
    b.setMore(more);
  });
}

std::uint64_t FakeWorker::ring_released() const {
  const auto releases = received_of(wire::Envelope::BODY_RING_RELEASE);
  return releases.empty() ? 0 : releases.back().getBodyRingRelease().getThrough();
}

void FakeWorker::start() {
  if (options_.send_hello) send_hello();
  read();
}

void FakeWorker::read() {
  if (exited_) return;
  auto space = reader_.prepare(64 * 1024);
  io_state_->socket.async_read_some(asio::buffer(space.data(), space.size()),
                                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                      if (self->exited_) return;
                                      if (ec) {
                                        // The gateway closed our socket: a real worker exits.
                                        if (self->options_.exit_on_eof) self->exit(0);
                                        return;
                                      }
                                      ++self->reads_;
                                      self->reader_.commit(n);
                                      for (;;) {
                                        protocol::Frame frame;
                                        std::error_code frame_ec;
                                        if (!self->reader_.next(frame, frame_ec)) break;
                                        auto copy = std::make_unique<capnp::MallocMessageBuilder>();
                                        copy->setRoot(frame.root());
                                        self->received_.push_back(std::move(copy));
                                        self->handle(self->received(self->received_.size() - 1));
                                        if (self->exited_) return;
                                      }
                                      self->read();
                                    });
}

void FakeWorker::handle(wire::Envelope::Reader m) {
  using E = wire::Envelope;
  const std::uint64_t scope = m.getScope();
  switch (m.which()) {
    case E::OPEN:
      if (m.getOpen().getType() == wire::ScopeType::LIFESPAN) {
        lifespan_scope_ = scope;
      } else if (options_.serve_hello) {
        send_start(scope, 200, {{"content-type", "text/plain"}});
        send_body(scope, "hello", false);
        send_scope_end(scope);
      }
      break;
    case E::LIFESPAN_STARTUP:
      if (!options_.answer_lifespan) break;
      if (options_.lifespan_unsupported) {
        send_lifespan(scope, E::LIFESPAN_UNSUPPORTED, "no lifespan here");
      } else if (!options_.lifespan_failure.empty()) {
        send_lifespan(scope, E::LIFESPAN_STARTUP_FAILED, options_.lifespan_failure);
      } else {
        send_lifespan(scope, E::LIFESPAN_STARTUP_COMPLETE);
      }
      break;
    case E::LIFESPAN_SHUTDOWN:
      if (options_.answer_lifespan_shutdown) send_lifespan(scope, E::LIFESPAN_SHUTDOWN_COMPLETE);
      break;
    case E::HEARTBEAT:
      if (options_.answer_heartbeats) send_heartbeat(m.getHeartbeat().getSeq());
      break;
    case E::SHUTDOWN:
      if (options_.exit_on_shutdown) {
        exit(0);
        return;
      }
      break;
    default: break;
  }
  if (on_message) on_message(*this, m);
}

wire::Envelope::Reader FakeWorker::received(std::size_t i) const {
  return received_.at(i)->getRoot<wire::Envelope>().asReader();
}

std::vector<wire::Envelope::Reader> FakeWorker::received_of(wire::Envelope::Which which) const {
  std::vector<wire::Envelope::Reader> out;
  for (std::size_t i = 0; i < received_.size(); ++i) {
    if (received(i).which() == which) out.push_back(received(i));
  }
  return out;
}

std::vector<wire::Envelope::Which> FakeWorker::kinds() const {
  std::vector<wire::Envelope::Which> out;
  for (std::size_t i = 0; i < received_.size(); ++i) out.push_back(received(i).which());
  return out;
}

std::uint64_t FakeWorker::credit_for(std::uint64_t scope) const {
  std::uint64_t total = 0;
  for (auto m : received_of(wire::Envelope::CREDIT)) {
    if (m.getScope() == scope) total += m.getCredit().getBytes();
  }
  return total;
}

void FakeWorker::send(const std::function<void(wire::Envelope::Builder)>& fill) {
  capnp::MallocMessageBuilder message(8192);
  fill(message.initRoot<wire::Envelope>());
  protocol::append_frame(message, out_);
  flush();
}

void FakeWorker::send_hello(std::uint32_t protocol_version) {
  send([&](wire::Envelope::Builder e) {
    e.setScope(0);
    auto h = e.initHello();
    h.setProtocolVersion(static_cast<std::uint16_t>(protocol_version));
    h.setPid(static_cast<std::uint32_t>(::getpid()));
    h.setConcurrency(options_.concurrency);
    h.setScopeTypes(options_.scope_types);
    h.setSkipResponseDone(options_.skip_response_done);
    h.setSdkName("fake-worker");
    h.setSdkVersion("0");
  });
}

void FakeWorker::send_start(std::uint64_t scope, std::uint16_t status,
                            std::vector<std::pair<std::string, std::string>> headers, bool trailers) {
  send([&](wire::Envelope::Builder e) {
    e.setScope(scope);
    auto s = e.initHttpResponseStart();
    s.setStatus(status);
    s.setTrailers(trailers);
    set_headers(s.initHeaders(static_cast<unsigned>(headers.size() * 2)), headers);
  });
}

void FakeWorker::send_body(std::uint64_t scope, std::string_view body, bool more) {
  send([&](wire::Envelope::Builder e) {
    e.setScope(scope);
    auto b = e.initHttpResponseBody();
    b.setBody(as_data(body));
    b.setMore(more);
  });
}

void FakeWorker::send_file(std::uint64_t scope, std::string_view path, std::uint64_t offset, std::int64_t length) {
  send([&](wire::Envelope::Builder e) {
    e.setScope(scope);
    auto b = e.initHttpResponseBody();
    b.setFile(std::string(path));
    b.setOffset(offset);
    b.setLength(length);
  });
}

void FakeWorker::send_trailers(std::uint64_t scope, std::vector<std::pair<std::string, std::string>> headers) {
  send([&](wire::Envelope::Builder e) {
    e.setScope(scope);
    set_headers(e.initHttpResponseTrailers().initHeaders(static_cast<unsigned>(headers.size() * 2)), headers);
  });
}

void FakeWorker::send_credit(std::uint64_t scope, std::uint32_t bytes) {
  send([&](wire::Envelope::Builder e) {
    e.setScope(scope);
    e.initCredit().setBytes(bytes);
  });
}

void FakeWorker::send_scope_end(std::uint64_t scope, bool failed, std::string_view message) {
  send([&](wire::Envelope::Builder e) {
    e.setScope(scope);
    auto s = e.initScopeEnd();
    s.setFailed(failed);
    s.setMessage(std::string(message));
  });
}

void FakeWorker::send_lifespan(std::uint64_t scope, wire::Envelope::Which which, std::string_view message) {
  using E = wire::Envelope;
  send([&](wire::Envelope::Builder e) {
    e.setScope(scope);
    const std::string text(message);
    switch (which) {
      case E::LIFESPAN_STARTUP_COMPLETE: e.setLifespanStartupComplete(); break;
      case E::LIFESPAN_STARTUP_FAILED: e.setLifespanStartupFailed(text); break;
      case E::LIFESPAN_SHUTDOWN_COMPLETE: e.setLifespanShutdownComplete(); break;
      case E::LIFESPAN_SHUTDOWN_FAILED: e.setLifespanShutdownFailed(text); break;
      case E::LIFESPAN_UNSUPPORTED: e.setLifespanUnsupported(text); break;
      default: break;
    }
  });
}

void FakeWorker::send_heartbeat(std::uint64_t seq) {
  send([&](wire::Envelope::Builder e) {
    e.setScope(0);
    e.initHeartbeat().setSeq(seq);
  });
}

void FakeWorker::send_raw(std::string_view bytes) {
  out_.append(bytes);
  flush();
}

void FakeWorker::flush() {
  if (write_in_flight_ || out_.empty() || exited_) return;
  write_in_flight_ = true;
  // Post, so everything sent in this loop turn shares one write.
  asio::post(io_, [self = shared_from_this()] {
    if (self->exited_) return;
    self->writing_.swap(self->out_);
    self->out_.clear();
    asio::async_write(self->io_state_->socket, asio::buffer(self->writing_),
                      [self](const boost::system::error_code&, std::size_t) {
                        self->write_in_flight_ = false;
                        self->writing_.clear();
                        self->flush();
                      });
  });
}

void FakeWorker::exit(int wait_status) {
  if (exited_) return;
  exited_ = true;
  boost::system::error_code ignored;
  io_state_->socket.close(ignored);
  if (on_exit) {
    auto handler = std::move(on_exit);
    on_exit = nullptr;
    asio::post(io_, [handler = std::move(handler), wait_status] { handler(wait_status); });
  }
}

int run_fake_worker_process(FakeWorkerOptions options) {
  const char* fd_text = std::getenv("PAGI_WORKER_FD");
  if (fd_text == nullptr) return 2;
  asio::io_context io;
  auto worker = std::make_shared<FakeWorker>(io, std::atoi(fd_text), std::move(options));
  int code = 0;
  worker->on_exit = [&](int status) {
    code = WEXITSTATUS(status);
    io.stop();
  };
  worker->start();
  io.run();
  return code;
}

}  // namespace pagi::fakes
