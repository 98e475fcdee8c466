#include "protocol/frame_codec.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <optional>
#include <utility>

#include <capnp/serialize.h>
#include <kj/exception.h>

namespace pagi::protocol {

namespace {

constexpr std::size_t kWordBytes = sizeof(capnp::word);
// Growth granularity of read chunks, so that byte-sized feeds do not
// reallocate on every call. Not a limit: prepare() asks for what it needs.
constexpr std::size_t kMinChunkBytes = 4096;

constexpr std::size_t round_up_words(std::size_t bytes) { return (bytes + kWordBytes - 1) / kWordBytes * kWordBytes; }

std::uint32_t load_le32(const std::byte* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

void store_le32(char* p, std::uint32_t v) {
  p[0] = char(v & 0xff);
  p[1] = char((v >> 8) & 0xff);
  p[2] = char((v >> 16) & 0xff);
  p[3] = char((v >> 24) & 0xff);
}

class FrameCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pagi.frame"; }
  std::string message(int ev) const override {
    switch (static_cast<FrameError>(ev)) {
      case FrameError::ok: return "ok";
      case FrameError::too_many_segments: return "frame has too many segments";
      case FrameError::empty_segment_table: return "frame declares no words";
      case FrameError::too_large: return "frame exceeds the size limit";
      case FrameError::malformed: return "malformed Cap'n Proto message";
    }
    return "unknown frame error";
  }
};

}  // namespace

const std::error_category& frame_category() noexcept {
  static const FrameCategory category;
  return category;
}

std::error_code make_error_code(FrameError e) noexcept { return {static_cast<int>(e), frame_category()}; }

// ---------------------------------------------------------------------------
// Chunk: a reference-counted block of words. Atomic counts, because a Frame
// may be handed to another thread than the reader's.

namespace detail {

struct Chunk {
  std::atomic<std::uint32_t> refs{1};
  std::size_t capacity = 0;  // bytes, a multiple of the word size
  // Set for external bytes (SharedBytes::external): no data of its own.
  std::shared_ptr<ExternalBytesOwner> owner;
  std::uint64_t token = 0;

  std::byte* data() { return reinterpret_cast<std::byte*>(this + 1); }
  const capnp::word* words() { return reinterpret_cast<const capnp::word*>(this + 1); }
};
static_assert(sizeof(Chunk) % alignof(capnp::word) == 0);

}  // namespace detail

namespace {

using detail::Chunk;

Chunk* chunk_new(std::size_t capacity_bytes) {
  capacity_bytes = round_up_words(capacity_bytes);
  void* raw = ::operator new(sizeof(Chunk) + capacity_bytes);
  auto* chunk = new (raw) Chunk;
  chunk->capacity = capacity_bytes;
  return chunk;
}

void chunk_ref(Chunk* c) { c->refs.fetch_add(1, std::memory_order_relaxed); }

void chunk_unref(Chunk* c) {
  if (c != nullptr && c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (c->owner) c->owner->release_bytes(c->token);
    c->~Chunk();
    ::operator delete(c);
  }
}

// True when only the reader holds `c`, so its bytes may be overwritten.
bool chunk_unique(Chunk* c) { return c->refs.load(std::memory_order_acquire) == 1; }

}  // namespace

// ---------------------------------------------------------------------------
// Frame

struct Frame::Storage {
  Chunk* chunk = nullptr;  // one reference held
  const capnp::word* words = nullptr;
  capnp::ReaderOptions options;
  std::optional<capnp::FlatArrayMessageReader> reader;

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    reader.reset();
    chunk_unref(chunk);
  }

  void hold(Chunk* c) {
    if (c == chunk) return;
    chunk_ref(c);
    chunk_unref(chunk);
    chunk = c;
  }
};

Frame::Frame() noexcept = default;
Frame::~Frame() = default;

Frame::Frame(Frame&& other) noexcept : storage_(std::move(other.storage_)), root_(other.root_), bytes_(other.bytes_) {
  other.root_ = {};
  other.bytes_ = 0;
}

Frame& Frame::operator=(Frame&& other) noexcept {
  if (this != &other) {
    storage_ = std::move(other.storage_);
    root_ = other.root_;
    bytes_ = other.bytes_;
    other.root_ = {};
    other.bytes_ = 0;
  }
  return *this;
}

std::span<const std::byte> Frame::bytes() const {
  if (bytes_ == 0) return {};
  return {reinterpret_cast<const std::byte*>(storage_->words), bytes_};
}

void Frame::detach() {
  if (bytes_ == 0) return;
  Storage& st = *storage_;
  Chunk* own = chunk_new(bytes_);
  std::memcpy(own->data(), st.words, bytes_);
  st.reader.reset();
  chunk_unref(st.chunk);
  st.chunk = own;
  st.words = own->words();
  try {
    // Same bytes and a fresh budget: this cannot fail where next() succeeded.
    st.reader.emplace(kj::arrayPtr(st.words, bytes_ / kWordBytes), st.options);
    root_ = st.reader->getRoot<wire::Envelope>();
  } catch (const kj::Exception&) {
    root_ = {};
    bytes_ = 0;
  }
}

SharedBytes Frame::share(std::string_view inside) const {
  if (inside.empty()) return {};
  const auto frame = bytes();
  const auto* begin = reinterpret_cast<const char*>(frame.data());
  const auto* end = begin + frame.size();
  // Compared as addresses: `inside` may point anywhere.
  const auto at = reinterpret_cast<std::uintptr_t>(inside.data());
  if (frame.empty() || at < reinterpret_cast<std::uintptr_t>(begin) ||
      at + inside.size() > reinterpret_cast<std::uintptr_t>(end))
    return SharedBytes::copy_of(inside);
  SharedBytes out;
  chunk_ref(storage_->chunk);
  out.chunk_ = storage_->chunk;
  out.data_ = inside.data();
  out.size_ = inside.size();
  return out;
}

// ---------------------------------------------------------------------------
// SharedBytes

SharedBytes SharedBytes::copy_of(std::string_view bytes) {
  SharedBytes out;
  if (bytes.empty()) return out;
  Chunk* own = chunk_new(bytes.size());
  std::memcpy(own->data(), bytes.data(), bytes.size());
  out.chunk_ = own;
  out.data_ = reinterpret_cast<const char*>(own->data());
  out.size_ = bytes.size();
  return out;
}

SharedBytes SharedBytes::external(const char* data, std::size_t size, std::shared_ptr<ExternalBytesOwner> owner,
                                  std::uint64_t token) {
  SharedBytes out;
  Chunk* handle = chunk_new(0);
  handle->owner = std::move(owner);
  handle->token = token;
  out.chunk_ = handle;
  out.data_ = data;
  out.size_ = size;
  return out;
}

const void* SharedBytes::storage() const {
  if (chunk_ != nullptr && chunk_->owner) return chunk_->owner.get();
  return chunk_;
}

SharedBytes::SharedBytes(const SharedBytes& other) noexcept
    : chunk_(other.chunk_), data_(other.data_), size_(other.size_) {
  if (chunk_ != nullptr) chunk_ref(chunk_);
}

SharedBytes::SharedBytes(SharedBytes&& other) noexcept
    : chunk_(std::exchange(other.chunk_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedBytes& SharedBytes::operator=(SharedBytes other) noexcept {
  std::swap(chunk_, other.chunk_);
  std::swap(data_, other.data_);
  std::swap(size_, other.size_);
  return *this;
}

SharedBytes::~SharedBytes() { chunk_unref(chunk_); }

std::uint32_t SharedBytes::use_count() const {
  return chunk_ != nullptr ? chunk_->refs.load(std::memory_order_relaxed) : 0;
}

// ---------------------------------------------------------------------------
// FrameReader

FrameReader::FrameReader(FrameLimits limits) : limits_(limits) {}

FrameReader::~FrameReader() {
  chunk_unref(chunk_);
  chunk_unref(spare_);
}

FrameReader::FrameReader(FrameReader&& other) noexcept
    : limits_(other.limits_),
      chunk_(std::exchange(other.chunk_, nullptr)),
      spare_(std::exchange(other.spare_, nullptr)),
      begin_(std::exchange(other.begin_, 0)),
      end_(std::exchange(other.end_, 0)),
      error_(std::exchange(other.error_, {})) {}

FrameReader& FrameReader::operator=(FrameReader&& other) noexcept {
  if (this != &other) {
    chunk_unref(chunk_);
    chunk_unref(spare_);
    limits_ = other.limits_;
    chunk_ = std::exchange(other.chunk_, nullptr);
    spare_ = std::exchange(other.spare_, nullptr);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    error_ = std::exchange(other.error_, {});
  }
  return *this;
}

std::size_t FrameReader::frame_size(std::error_code& ec) const {
  const std::size_t avail = end_ - begin_;
  if (avail < 4) return 0;
  const std::byte* p = chunk_->data() + begin_;
  // Check the declared count before reading (or allocating for) the table.
  const std::uint64_t count = std::uint64_t(load_le32(p)) + 1;
  if (count > limits_.max_segments) {
    ec = FrameError::too_many_segments;
    return 0;
  }
  const std::size_t table_bytes = round_up_words(4 * (count + 1));
  // Sum the sizes buffered so far, so an oversized claim fails early.
  const std::uint64_t known = std::min<std::uint64_t>(count, (avail - 4) / 4);
  const std::uint64_t max_words = limits_.max_message_bytes / kWordBytes;
  std::uint64_t words = 0;
  for (std::uint64_t i = 0; i < known; ++i) {
    words += load_le32(p + 4 + 4 * i);
    if (words > max_words) {  // checked per segment: the sum cannot overflow
      ec = FrameError::too_large;
      return 0;
    }
  }
  if (avail < table_bytes) return 0;
  if (words == 0) {
    ec = FrameError::empty_segment_table;
    return 0;
  }
  const std::uint64_t total = table_bytes + words * kWordBytes;
  if (total > limits_.max_message_bytes) {
    ec = FrameError::too_large;
    return 0;
  }
  return static_cast<std::size_t>(total);
}

void FrameReader::reserve_tail(std::size_t min_bytes) {
  if (chunk_ != nullptr && chunk_->capacity - end_ >= min_bytes) return;
  const std::size_t live = end_ - begin_;
  const std::size_t required = round_up_words(live + min_bytes);

  if (chunk_ != nullptr && chunk_unique(chunk_) && chunk_->capacity >= required) {
    // Nobody else reads these words: slide the unread tail to the front.
    std::memmove(chunk_->data(), chunk_->data() + begin_, live);
    begin_ = 0;
    end_ = live;
    return;
  }

  Chunk* fresh = nullptr;
  if (spare_ != nullptr && chunk_unique(spare_) && spare_->capacity >= required) {
    fresh = std::exchange(spare_, nullptr);
  } else {
    const std::size_t old_capacity = chunk_ != nullptr ? chunk_->capacity : 0;
    fresh = chunk_new(std::max({required, old_capacity, kMinChunkBytes}));
  }
  if (chunk_ != nullptr) {
    std::memcpy(fresh->data(), chunk_->data() + begin_, live);
    if (chunk_unique(chunk_)) {
      chunk_unref(chunk_);  // too small to keep
    } else {
      // Frames still read it; keep it to reuse once they are gone.
      chunk_unref(spare_);
      spare_ = chunk_;
    }
  }
  chunk_ = fresh;
  begin_ = 0;
  end_ = live;
}

std::span<std::byte> FrameReader::prepare(std::size_t min_bytes) {
  std::size_t need = std::max<std::size_t>(min_bytes, 1);
  if (!error_) {
    // A frame whose header is buffered gets room to complete in one piece.
    std::error_code ec;
    const std::size_t whole = chunk_ != nullptr ? frame_size(ec) : 0;
    if (whole > buffered_bytes()) need = std::max(need, whole - buffered_bytes());
  }
  reserve_tail(need);
  return {chunk_->data() + end_, chunk_->capacity - end_};
}

void FrameReader::commit(std::size_t n) {
  if (chunk_ == nullptr) return;
  end_ += std::min(n, chunk_->capacity - end_);
}

void FrameReader::feed(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    auto space = prepare(bytes.size());
    const std::size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    commit(n);
    bytes = bytes.subspan(n);
  }
}

bool FrameReader::next(Frame& out, std::error_code& ec) {
  ec.clear();
  if (error_) {
    ec = error_;
    return false;
  }
  if (chunk_ == nullptr) return false;
  const std::size_t size = frame_size(ec);
  if (ec) {
    error_ = ec;
    return false;
  }
  if (size == 0 || buffered_bytes() < size) return false;

  if (!out.storage_) out.storage_ = std::make_unique<Frame::Storage>();
  Frame::Storage& st = *out.storage_;
  st.reader.reset();
  out.root_ = {};
  out.bytes_ = 0;
  st.hold(chunk_);
  st.words = chunk_->words() + begin_ / kWordBytes;
  st.options.traversalLimitInWords =
      std::uint64_t(size / kWordBytes) * std::max<std::uint32_t>(limits_.traversal_multiplier, 1);
  st.options.nestingLimit = limits_.nesting_limit;
  try {
    st.reader.emplace(kj::arrayPtr(st.words, size / kWordBytes), st.options);
    out.root_ = st.reader->getRoot<wire::Envelope>();
  } catch (const kj::Exception&) {
    st.reader.reset();
    ec = error_ = FrameError::malformed;
    return false;
  }
  out.bytes_ = size;
  begin_ += size;
  return true;
}

// ---------------------------------------------------------------------------
// Writing

namespace {

std::size_t single_segment_frame_bytes(std::size_t words) { return kWordBytes * (1 + words); }

void append_single_segment(kj::ArrayPtr<const capnp::word> segment, std::string& out) {
  const std::size_t at = out.size();
  out.resize(at + single_segment_frame_bytes(segment.size()));
  char* p = out.data() + at;
  store_le32(p, 0);  // segment count - 1
  store_le32(p + 4, static_cast<std::uint32_t>(segment.size()));
  std::memcpy(p + kWordBytes, segment.begin(), segment.size() * kWordBytes);
}

}  // namespace

std::size_t frame_size(capnp::MessageBuilder& message) {
  auto segments = message.getSegmentsForOutput();
  if (segments.size() == 1) return single_segment_frame_bytes(segments[0].size());
  // Written flattened: the root pointer plus everything it reaches.
  auto size = message.getRoot<capnp::AnyPointer>().asReader().targetSize();
  return single_segment_frame_bytes(1 + size.wordCount);
}

void append_frame(capnp::MessageBuilder& message, std::string& out) {
  auto segments = message.getSegmentsForOutput();
  if (segments.size() == 1) {
    append_single_segment(segments[0], out);
    return;
  }
  // The builder overflowed its first segment (give it a larger one to avoid
  // this copy): peers expect one segment, so copy the tree into one.
  auto root = message.getRoot<capnp::AnyPointer>().asReader();
  const std::size_t words = 1 + root.targetSize().wordCount;
  capnp::MallocMessageBuilder flat(static_cast<capnp::uint>(words), capnp::AllocationStrategy::FIXED_SIZE);
  flat.getRoot<capnp::AnyPointer>().setAs<capnp::AnyPointer>(root);
  append_single_segment(flat.getSegmentsForOutput()[0], out);
}

}  // namespace pagi::protocol
