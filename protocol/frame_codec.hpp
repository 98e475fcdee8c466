// Cap'n Proto stream framing for the worker socket, without sockets: bytes in,
// messages out; messages in, bytes out. Frames from workers are untrusted, so
// the reader enforces hard limits before Cap'n Proto sees a byte.
//
// Memory: the reader fills a word-aligned chunk; a decoded Frame shares that
// chunk (reference counted) instead of copying its words out. The reader
// compacts a chunk in place when no Frame holds it, and otherwise moves the
// unread tail to a spare chunk, so a steady stream of frames needs no
// allocation once a Frame object is reused with next(). A Frame kept for a
// long time pins its whole chunk; call Frame::detach() if that matters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include <capnp/message.h>

#include "protocol/pagi.capnp.h"

namespace pagi::protocol {

enum class FrameError {
  ok = 0,
  too_many_segments,    // segment count over FrameLimits::max_segments
  empty_segment_table,  // a segment table that declares zero words in all
  too_large,            // frame over FrameLimits::max_message_bytes
  malformed,            // Cap'n Proto rejected the message (bad pointer, limit hit)
};
const std::error_category& frame_category() noexcept;
std::error_code make_error_code(FrameError e) noexcept;

struct FrameLimits {
  // Largest whole frame (segment table included) accepted from a peer.
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  // Writers produce single-segment messages; more is rejected unread.
  std::uint32_t max_segments = 1;
  // Pointer depth; our schema needs 3 (Envelope -> event -> list -> element).
  int nesting_limit = 8;
  // Cap'n Proto charges every pointer a reader follows against a traversal
  // budget (which defeats messages whose pointers alias the same bytes). The
  // budget is the frame's size times this: one pass for validation plus a
  // few reads of each field by the code that uses it.
  std::uint32_t traversal_multiplier = 4;
};

namespace detail {
struct Chunk;  // reference-counted, word-aligned read buffer
}

// Storage of SharedBytes that lives outside the codec's chunks (a worker's
// shared body ring): told, by the token it handed out, when the last
// SharedBytes viewing a piece of it is gone.
class ExternalBytesOwner {
 public:
  virtual void release_bytes(std::uint64_t token) noexcept = 0;

 protected:
  ~ExternalBytesOwner() = default;
};

// Bytes that keep their storage alive: a view into a frame's read chunk
// (Frame::share), so a response body can wait in a client's output queue
// without being copied out of the worker's read buffer; or a copy of their
// own (copy_of). While any SharedBytes holds a chunk, the FrameReader never
// overwrites it (it reads into a spare or a fresh chunk instead).
class SharedBytes {
 public:
  SharedBytes() noexcept = default;
  // `bytes` copied into storage of their own.
  static SharedBytes copy_of(std::string_view bytes);
  // `size` bytes at `data`, owned by `owner`, which keeps them readable at
  // least until its release_bytes(token). storage() is `owner`'s identity:
  // views of one owner count as one storage.
  static SharedBytes external(const char* data, std::size_t size, std::shared_ptr<ExternalBytesOwner> owner,
                              std::uint64_t token);
  SharedBytes(const SharedBytes& other) noexcept;
  SharedBytes(SharedBytes&& other) noexcept;
  SharedBytes& operator=(SharedBytes other) noexcept;
  ~SharedBytes();

  std::string_view view() const { return {data_, size_}; }
  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The storage's identity (a read chunk shared with a frame, the copy's,
  // or an external owner); null when empty. For accounting and tests.
  const void* storage() const;
  // Holders of the storage, this one included (0 when empty). For tests.
  std::uint32_t use_count() const;

 private:
  friend class Frame;
  detail::Chunk* chunk_ = nullptr;  // one reference held
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

// One decoded frame. Owns (shares) its words; root() is valid while the Frame
// lives, and stays valid when the Frame is moved.
//
// Field access may still throw kj::Exception: Cap'n Proto validates pointers
// lazily. validate_worker_message() touches every field a worker message has
// and reports such failures as an error code, so after it succeeds only an
// excessive number of re-reads (beyond the traversal budget) can throw.
class Frame {
 public:
  Frame() noexcept;  // empty: root() reads as a default Envelope
  Frame(Frame&&) noexcept;
  Frame& operator=(Frame&&) noexcept;
  ~Frame();

  wire::Envelope::Reader root() const { return root_; }
  // Bytes of the frame on the wire, segment table included.
  std::size_t size_bytes() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }
  // The frame's words (segment table included), e.g. to forward it verbatim.
  std::span<const std::byte> bytes() const;
  // Copies the words into storage of their own, releasing the shared chunk.
  void detach();
  // `inside` (a view of this frame's bytes, e.g. a Data field read from
  // root()) as SharedBytes that keep the frame's chunk alive after the Frame
  // moves on. A view outside the frame's bytes is copied.
  SharedBytes share(std::string_view inside) const;

 private:
  friend class FrameReader;
  struct Storage;
  std::unique_ptr<Storage> storage_;  // kept across reuse by next()
  wire::Envelope::Reader root_;
  std::size_t bytes_ = 0;
};

// Accumulates bytes from a stream and yields whole frames.
class FrameReader {
 public:
  explicit FrameReader(FrameLimits limits = {});
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;
  FrameReader(FrameReader&&) noexcept;
  FrameReader& operator=(FrameReader&&) noexcept;
  ~FrameReader();

  // Where the next read should land: at least `min_bytes` of free space (more
  // when a frame whose header is already buffered needs more to complete).
  std::span<std::byte> prepare(std::size_t min_bytes = 64 * 1024);
  // `n` bytes were written into the span prepare() returned.
  void commit(std::size_t n);
  // Convenience for tests and fuzzing: copy bytes in.
  void feed(std::span<const std::byte> bytes);

  // The next complete frame, if one is buffered. Returns false when more
  // bytes are needed; sets `ec` (and returns false) on a framing error, after
  // which the stream is unusable (every later call reports the same error).
  // Never throws. Passing the same Frame again reuses its storage.
  bool next(Frame& out, std::error_code& ec);

  std::size_t buffered_bytes() const { return end_ - begin_; }
  const FrameLimits& limits() const { return limits_; }

 private:
  // Header check of the buffered bytes: total frame size, 0 when the segment
  // table is incomplete, or an error.
  std::size_t frame_size(std::error_code& ec) const;
  void reserve_tail(std::size_t min_bytes);

  FrameLimits limits_;
  detail::Chunk* chunk_ = nullptr;  // being filled; also shared by Frames
  detail::Chunk* spare_ = nullptr;  // a previous chunk, reused once unshared
  std::size_t begin_ = 0;           // bytes consumed (always word aligned)
  std::size_t end_ = 0;             // bytes filled
  std::error_code error_;           // sticky framing error
};

// Appends `message` in stream framing to `out`. Builders should use one
// segment (capnp::MallocMessageBuilder with a large enough first segment).
void append_frame(capnp::MessageBuilder& message, std::string& out);

// Bytes append_frame() would append.
std::size_t frame_size(capnp::MessageBuilder& message);

}  // namespace pagi::protocol

template <>
struct std::is_error_code_enum<pagi::protocol::FrameError> : std::true_type {};
