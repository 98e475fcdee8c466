// ReadWatcher: a socket's reader hears of bytes already waiting, of new bytes
// (once per arrival, edge-triggered), of end of file; a removed reader hears
// nothing more, also not from events fetched in the same batch; a reused slot
// gets a new handle.
#include "gateway/http1/read_watcher.hpp"

#include <cstring>
#include <functional>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <sys/socket.h>

namespace pagi::gateway::http1 {
namespace {

struct SocketPair {
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0); }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void send(const char* bytes) { EXPECT_GT(::write(fd[1], bytes, std::strlen(bytes)), 0); }
  void drain() {
    char buf[256];
    while (::read(fd[0], buf, sizeof buf) > 0) {
    }
  }
  int fd[2] = {-1, -1};
};

struct CountingReader final : ReadWatcher::Reader {
  void on_readable() override {
    ++calls;
    if (then) then();
  }
  void on_watcher_closed() override { ++closed; }
  int calls = 0;
  int closed = 0;
  std::function<void()> then;
};

class ReadWatcherTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  boost::asio::any_io_executor ex = io.get_executor();
  ReadWatcher& watcher = ReadWatcher::of(ex);
};

TEST_F(ReadWatcherTest, BytesAlreadyWaitingCountAsAnEvent) {
  SocketPair s;
  s.send("GET");
  CountingReader r;
  const auto h = watcher.add(s.fd[0], r, ex);
  ASSERT_NE(h, 0u);
  EXPECT_EQ(r.calls, 0);  // never inline
  io.poll();
  EXPECT_EQ(r.calls, 1);
  watcher.remove(h, s.fd[0]);
}

TEST_F(ReadWatcherTest, EachArrivalIsOneEvent) {
  SocketPair s;
  CountingReader r;
  const auto h = watcher.add(s.fd[0], r, ex);
  io.poll();
  EXPECT_EQ(r.calls, 0);  // nothing waiting yet
  s.send("a");
  io.restart();
  io.poll();
  EXPECT_EQ(r.calls, 1);
  io.restart();
  io.poll();
  EXPECT_EQ(r.calls, 1);  // edge-triggered: no new bytes, no new event
  s.drain();
  s.send("b");
  io.restart();
  io.poll();
  EXPECT_EQ(r.calls, 2);
  watcher.remove(h, s.fd[0]);
  EXPECT_EQ(watcher.watched(), 0u);
}

TEST_F(ReadWatcherTest, EndOfFileIsAnEvent) {
  SocketPair s;
  CountingReader r;
  const auto h = watcher.add(s.fd[0], r, ex);
  ::shutdown(s.fd[1], SHUT_WR);
  io.poll();
  EXPECT_EQ(r.calls, 1);
  watcher.remove(h, s.fd[0]);
}

TEST_F(ReadWatcherTest, RemovedReaderHearsNothing) {
  SocketPair s;
  CountingReader r;
  const auto h = watcher.add(s.fd[0], r, ex);
  s.send("x");
  watcher.remove(h, s.fd[0]);
  watcher.remove(h, s.fd[0]);  // twice is harmless
  io.poll();
  EXPECT_EQ(r.calls, 0);
}

TEST_F(ReadWatcherTest, ReaderRemovedByAnotherInTheSameBatchIsNotCalled) {
  SocketPair s1, s2;
  CountingReader a, b;
  ReadWatcher::Handle ha = watcher.add(s1.fd[0], a, ex);
  ReadWatcher::Handle hb = watcher.add(s2.fd[0], b, ex);
  // Whichever runs first removes the other, whose event is already fetched.
  a.then = [&] { watcher.remove(hb, -1); };
  b.then = [&] { watcher.remove(ha, -1); };
  s1.send("x");
  s2.send("y");
  io.poll();
  EXPECT_EQ(a.calls + b.calls, 1);
  watcher.remove(a.calls ? ha : hb, -1);  // the survivor
  EXPECT_EQ(watcher.watched(), 0u);
}

TEST_F(ReadWatcherTest, AReusedSlotGetsANewHandle) {
  SocketPair s1, s2;
  CountingReader a, b;
  const auto ha = watcher.add(s1.fd[0], a, ex);
  watcher.remove(ha, s1.fd[0]);
  const auto hb = watcher.add(s2.fd[0], b, ex);
  EXPECT_NE(ha, hb);
  watcher.remove(ha, s2.fd[0]);  // the old handle no longer names anything
  EXPECT_EQ(watcher.watched(), 1u);
  s2.send("z");
  io.poll();
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(a.calls, 0);
  watcher.remove(hb, s2.fd[0]);
}

TEST_F(ReadWatcherTest, AnEmptyWatcherLetsRunReturnAndWakesForTheNextSocket) {
  SocketPair s1, s2;
  CountingReader a, b;
  const auto ha = watcher.add(s1.fd[0], a, ex);
  io.poll();
  watcher.remove(ha, s1.fd[0]);
  io.run();  // returns: the watcher's wait was cancelled
  io.restart();
  const auto hb = watcher.add(s2.fd[0], b, ex);
  s2.send("w");
  io.poll();
  EXPECT_EQ(b.calls, 1);
  watcher.remove(hb, s2.fd[0]);
  io.run();
}

TEST(ReadWatcherShutdown, ReadersStillWatchedHearOfIt) {
  SocketPair s;
  CountingReader r;
  {
    boost::asio::io_context io;
    boost::asio::any_io_executor ex = io.get_executor();
    ReadWatcher::of(ex).add(s.fd[0], r, ex);
  }
  EXPECT_EQ(r.closed, 1);
  EXPECT_EQ(r.calls, 0);
}

}  // namespace
}  // namespace pagi::gateway::http1
