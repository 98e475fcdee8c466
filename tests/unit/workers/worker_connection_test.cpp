// A worker connection's output buffers on a real socketpair: a buffer grown
// by a large turn keeps its memory while large turns go on (regrowing it per
// turn cost the gateway a third of its CPU per 64 KiB echo) and gives it back
// after a quiet second, so an idle gateway does not hold its peak.
#include "workers/worker_connection.hpp"

#include <chrono>
#include <string_view>
#include <thread>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <sys/socket.h>

namespace pagi::workers {
namespace {

struct QuietListener final : WorkerConnectionListener {
  void on_frame(const protocol::Frame&) override {}
  void on_connection_closed(std::string_view, std::error_code) override {}
};

constexpr std::size_t kLarge = 2 * 1024 * 1024;
// Both buffers at their retained size at most (512 KiB each).
constexpr std::size_t kRetained = 2 * 512 * 1024;

TEST(WorkerConnectionTest, LargeOutputBufferIsKeptWhileLargeWritesGoOnAndReleasedWhenQuiet) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  std::thread drain([fd = fds[1]] {  // the worker's end reads everything
    char buf[65536];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
  });
  boost::asio::io_context io;
  QuietListener listener;
  auto conn = WorkerConnection::create(io, fds[0], protocol::FrameLimits{}, &listener);
  auto write_large = [&] {
    conn->output().append(kLarge, 'x');
    conn->flush();
    while (conn->pending_output() > 0) io.run_one();
  };

  write_large();
  EXPECT_GE(conn->output_capacity(), kLarge) << "written, but kept for the next large turn";
  write_large();  // another within the second: still kept
  EXPECT_GE(conn->output_capacity(), kLarge);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (conn->output_capacity() > kRetained && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  EXPECT_LE(conn->output_capacity(), kRetained) << "a quiet second gives the memory back";

  conn->close();  // the drain thread sees EOF
  drain.join();
  ::close(fds[1]);
}

}  // namespace
}  // namespace pagi::workers
