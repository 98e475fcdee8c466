// The gateway's side of a worker's shared body ring (docs/protocol.md, "3c.
// The shared body ring"): a sealed memfd the worker copies response bodies
// into, mapped read-only here, so a body reaches the client's socket without
// passing through the worker socket. Spans the worker sends are checked
// against the ring (a bad one is a protocol violation) and handed out as
// SharedBytes; the ring tracks which are still read and moves its release
// position over those that are done, in position order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "protocol/frame_codec.hpp"

namespace pagi::workers {

class BodyRing final : public protocol::ExternalBytesOwner, public std::enable_shared_from_this<BodyRing> {
 public:
  // A memfd of `size` bytes (> 0), sealed against resizing, mapped
  // read-only. Null with `error` set when the kernel refuses any step.
  static std::shared_ptr<BodyRing> create(std::uint32_t size, std::string& error);
  ~BodyRing();
  BodyRing(const BodyRing&) = delete;
  BodyRing& operator=(const BodyRing&) = delete;

  // The descriptor to hand to the worker (close-on-exec); -1 after close_fd().
  int fd() const { return fd_; }
  // The gateway needs only the mapping once the worker has inherited it.
  void close_fd();
  std::uint32_t size() const { return size_; }

  // The span [position, position + length) the worker sent, as bytes that
  // stay readable until the last copy of `out` is gone. False, with `why`
  // set, when the span breaks the protocol's rules.
  bool take(std::uint64_t position, std::uint32_t length, protocol::SharedBytes& out, const char*& why);

  // Everything before this position is no longer read: the start of the
  // oldest span still held, else the end of the newest span.
  std::uint64_t released() const { return spans_.empty() ? write_end_ : spans_.front().start; }
  // Spans handed out and not yet released.
  std::size_t held() const { return held_; }
  // The release position to announce to the worker, when it moved by an
  // eighth of the ring since the last one announced or nothing is held any
  // more (0 otherwise); marks it announced.
  std::uint64_t take_announcement();
  // Called (at most once until take_announcement()) when released() moved
  // far enough to be worth announcing. Runs inside a SharedBytes release,
  // anywhere on the io thread: it should only schedule work.
  void set_on_progress(std::function<void()> on_progress) { on_progress_ = std::move(on_progress); }
  // Called at the start and the end of a quiet period (the worker arms a
  // timer when the ring empties): when no span was taken since the last
  // call and none is held, drops the gateway's page mappings of the ring, so
  // the pages the client writes touched stop counting in the gateway's RSS.
  // The bytes stay in the memfd (the worker's); nothing the gateway still
  // reads is involved. True when it trimmed.
  bool trim_if_idle();
  // Nothing touched since the last trim (or ever).
  bool trimmed() const { return trimmed_; }

 private:
  BodyRing(int fd, std::uint32_t size, const char* map) : fd_(fd), size_(size), map_(map) {}
  void release_bytes(std::uint64_t token) noexcept override;
  // Every eighth of the ring, and whenever nothing is held any more (the
  // worker may then start over at the ring's beginning, docs/protocol.md 3c).
  bool announcement_due() const {
    const std::uint64_t moved = released() - announced_;
    return moved >= std::max<std::uint64_t>(1, size_ / 8) || (held_ == 0 && moved > 0);
  }

  struct Span {
    std::uint64_t start;
    bool held;
  };
  int fd_;
  std::uint32_t size_;
  const char* map_;
  std::deque<Span> spans_;         // handed out, in position order, until the front is released
  std::uint64_t first_token_ = 0;  // token of spans_.front()
  std::uint64_t write_end_ = 0;    // end of the newest span
  std::uint64_t announced_ = 0;
  std::size_t held_ = 0;
  bool progress_signalled_ = false;
  bool used_since_check_ = false;
  bool trimmed_ = true;  // nothing touched yet
  std::function<void()> on_progress_;
};

}  // namespace pagi::workers
