// Tells HTTP/1 connections when client bytes may be waiting, so a drained
// socket costs no system call until its next bytes come.
//
// Why not Asio's own reads: every async_read_some starts with a speculative
// recv, and Asio counts a socket as drained only at end of file. A keep-alive
// connection reads its request (short read: drained), starts the next read
// at once (recv: EAGAIN), and the next request then wakes epoll: one wasted
// system call per request, a third of the gateway's on a hello. Waiting
// without the speculative recv costs Asio an epoll_ctl per wait instead.
//
// Here each socket joins a second, edge-triggered epoll set once, when its
// connection starts. One Asio wait on that set covers every socket; when it
// fires, one epoll_wait names the sockets that got bytes (or end of file, or
// an error) and their readers run. A reader counts a short read as "drained"
// (as nginx does) and reads again only after its next event. Per loop turn
// that is two system calls (the wait's epoll_ctl and the epoll_wait) for all
// the sockets that became readable in it.
//
// One per io_context (an Asio service), used from the context's one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace pagi::gateway::http1 {

class ReadWatcher final : public boost::asio::execution_context::service {
 public:
  class Reader {
   public:
    // Bytes, end of file or an error may be waiting on the socket. Runs from
    // the watcher's handler, never inside add() or remove().
    virtual void on_readable() = 0;
    // The context is shutting down: no more events; drop what keeps the
    // reader alive for them (a connection holds itself while it waits).
    virtual void on_watcher_closed() = 0;

   protected:
    ~Reader() = default;
  };

  // Names one registration; 0 is none. A registration removed (and its slot
  // reused) never hears events meant for the old one.
  using Handle = std::uint64_t;

  static boost::asio::execution_context::id id;

  explicit ReadWatcher(boost::asio::execution_context& context);

  // The watcher of `executor`'s execution context.
  static ReadWatcher& of(const boost::asio::any_io_executor& executor);

  // Watches `fd` for `reader` until remove(). Bytes already waiting count as
  // an event. Returns 0 (errno set) when the kernel refuses.
  Handle add(int fd, Reader& reader, const boost::asio::any_io_executor& executor);
  // Stops watching; call before the socket is closed or handed on.
  void remove(Handle handle, int fd);

  std::size_t watched() const { return watched_; }

 private:
  struct Slot {
    Reader* reader = nullptr;
    std::uint32_t generation = 0;
  };

  void shutdown() override;
  void arm();
  void dispatch();

  int epoll_fd_ = -1;
  // The same set as Asio sees it; made with the first add() (a service has
  // no executor of its own).
  std::optional<boost::asio::posix::stream_descriptor> set_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t watched_ = 0;
  bool armed_ = false;
};

}  // namespace pagi::gateway::http1
