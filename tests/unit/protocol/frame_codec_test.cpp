#include "protocol/frame_codec.hpp"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <capnp/message.h>
#include <gtest/gtest.h>

#include "protocol/event_validation.hpp"
#include "tests/unit/protocol/sample_messages.hpp"

namespace pagi::protocol {
namespace {

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string text_of(const test::SampleMessage& sample) {
  capnp::MallocMessageBuilder message;
  sample.build(message.initRoot<wire::Envelope>());
  return message.getRoot<wire::Envelope>().asReader().toString().flatten().cStr();
}

std::string text_of(const Frame& frame) { return frame.root().toString().flatten().cStr(); }

// Drains every complete frame; fails the test on a framing error.
std::vector<Frame> drain(FrameReader& reader) {
  std::vector<Frame> frames;
  for (;;) {
    Frame frame;
    std::error_code ec;
    if (!reader.next(frame, ec)) {
      EXPECT_FALSE(ec) << ec.message();
      return frames;
    }
    frames.push_back(std::move(frame));
  }
}

std::string le32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = char((v >> (8 * i)) & 0xff);
  return s;
}

std::string le64(std::uint64_t v) { return le32(std::uint32_t(v)) + le32(std::uint32_t(v >> 32)); }

// --- round trips ---------------------------------------------------------------

TEST(FrameCodec, RoundTripsEveryMessageKind) {
  const auto samples = test::sample_messages();
  ASSERT_EQ(samples.size(), 46u);  // every union member, plus variants
  for (const auto& sample : samples) {
    SCOPED_TRACE(sample.name);
    const std::string wire_bytes = test::encode(sample);
    ASSERT_EQ(wire_bytes.size() % 8, 0u);
    FrameReader reader;
    reader.feed(as_bytes(wire_bytes));
    Frame frame;
    std::error_code ec;
    ASSERT_TRUE(reader.next(frame, ec)) << ec.message();
    EXPECT_EQ(frame.size_bytes(), wire_bytes.size());
    EXPECT_EQ(text_of(frame), text_of(sample));
    ASSERT_EQ(frame.bytes().size(), wire_bytes.size());
    EXPECT_EQ(0, std::memcmp(frame.bytes().data(), wire_bytes.data(), wire_bytes.size()));
    EXPECT_EQ(reader.buffered_bytes(), 0u);
    EXPECT_FALSE(reader.next(frame, ec));
    EXPECT_FALSE(ec);
  }
}

TEST(FrameCodec, CoversEveryUnionMember) {
  std::vector<bool> seen(41, false);
  for (const auto& sample : test::sample_messages()) {
    capnp::MallocMessageBuilder message;
    sample.build(message.initRoot<wire::Envelope>());
    seen.at(message.getRoot<wire::Envelope>().which()) = true;
  }
  for (std::size_t tag = 0; tag < seen.size(); ++tag) EXPECT_TRUE(seen[tag]) << "tag " << tag;
}

TEST(FrameCodec, FrameSizeMatchesAppendedBytes) {
  for (const auto& sample : test::sample_messages()) {
    capnp::MallocMessageBuilder message;
    sample.build(message.initRoot<wire::Envelope>());
    std::string out = "prefix";
    append_frame(message, out);
    EXPECT_EQ(out.size(), 6 + frame_size(message)) << sample.name;
    EXPECT_EQ(out.substr(0, 6), "prefix");
  }
}

TEST(FrameCodec, MinimalFrameLayoutIsStable) {
  // The exact bytes docs/protocol.md shows for {scope: 0, heartbeat {seq: 1}}.
  capnp::MallocMessageBuilder message;
  message.initRoot<wire::Envelope>().initHeartbeat().setSeq(1);
  std::string out;
  append_frame(message, out);
  const std::string expected = le32(0) + le32(5) +               // 1 segment of 5 words
                               le64(0x0001'0002'0000'0000ULL) +  // root: struct at +0, 2 data words, 1 ptr
                               le64(0) +                         // scope = 0
                               le64(4) +                         // union tag 4 = heartbeat
                               le64(0x0000'0001'0000'0000ULL) +  // event: struct at +0, 1 data word
                               le64(1);                          // seq = 1
  EXPECT_EQ(out, expected);
}

// Hex words in wire order, as docs/protocol.md prints them.
std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ' || hex[i] == '\n') {
      ++i;
      continue;
    }
    out += char(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

TEST(FrameCodec, DocumentedResponseStartLayout) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::Envelope>();
  root.setScope(7);
  auto start = root.initHttpResponseStart();
  start.setStatus(200);
  test::set_headers(start.initHeaders(2), {{"content-type", "text/plain"}});
  std::string out;
  append_frame(message, out);
  EXPECT_EQ(out, from_hex("00000000 0c000000 00000000 02000100 07000000 00000000"
                          "12000000 00000000 00000000 01000100 c8000000 00000000"
                          "01000000 16000000 05000000 62000000 09000000 52000000"
                          "636f6e74 656e742d 74797065 00000000 74657874 2f706c61"
                          "696e0000 00000000"));
}

TEST(FrameCodec, SeveralFramesInOneFeed) {
  const auto samples = test::sample_messages();
  std::string stream;
  for (const auto& s : samples) stream += test::encode(s);
  FrameReader reader;
  reader.feed(as_bytes(stream));
  auto frames = drain(reader);
  ASSERT_EQ(frames.size(), samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) EXPECT_EQ(text_of(frames[i]), text_of(samples[i]));
}

TEST(FrameCodec, ByteByByteDelivery) {
  const auto samples = test::sample_messages();
  std::string stream;
  for (const auto& s : samples) stream += test::encode(s);
  FrameReader reader;
  std::vector<Frame> frames;
  for (char c : stream) {
    reader.feed(std::as_bytes(std::span(&c, 1)));
    for (auto& f : drain(reader)) frames.push_back(std::move(f));
  }
  // Frames kept from earlier chunks stay readable while the reader moves on.
  ASSERT_EQ(frames.size(), samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) EXPECT_EQ(text_of(frames[i]), text_of(samples[i]));
}

TEST(FrameCodec, PrepareCommitWithRandomReadSizes) {
  const auto samples = test::sample_messages();
  std::string stream;
  for (int round = 0; round < 20; ++round) {
    for (const auto& s : samples) stream += test::encode(s);
  }
  std::mt19937 rng(7);
  FrameReader reader;
  Frame frame;  // reused: the steady-state pattern of a connection
  std::size_t at = 0, count = 0;
  while (at < stream.size()) {
    auto space = reader.prepare(std::uniform_int_distribution<std::size_t>(1, 300)(rng));
    const std::size_t n =
        std::min({space.size(), stream.size() - at, std::uniform_int_distribution<std::size_t>(1, 700)(rng)});
    std::memcpy(space.data(), stream.data() + at, n);
    reader.commit(n);
    at += n;
    std::error_code ec;
    while (reader.next(frame, ec)) {
      EXPECT_EQ(text_of(frame), text_of(samples[count % samples.size()]));
      ++count;
    }
    ASSERT_FALSE(ec) << ec.message();
  }
  EXPECT_EQ(count, samples.size() * 20);
}

TEST(FrameCodec, PrepareReservesRoomForABufferedFrameHeader) {
  test::SampleMessage big{"big", true, [](wire::Envelope::Builder e) {
                            e.setScope(1);
                            e.initHttpResponseBody().initBody(200000);
                          }};
  const std::string bytes = test::encode(big);
  FrameReader reader;
  reader.feed(as_bytes(bytes.substr(0, 16)));
  auto space = reader.prepare(16);
  ASSERT_GE(space.size(), bytes.size() - 16);
  std::memcpy(space.data(), bytes.data() + 16, bytes.size() - 16);
  reader.commit(bytes.size() - 16);
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec)) << ec.message();
  EXPECT_EQ(frame.root().getHttpResponseBody().getBody().size(), 200000u);
}

TEST(FrameCodec, OverflowedBuilderIsWrittenAsOneSegment) {
  capnp::MallocMessageBuilder message(16);  // far too small: several segments
  auto root = message.initRoot<wire::Envelope>();
  root.setScope(3);
  auto start = root.initHttpResponseStart();
  start.setStatus(200);
  auto headers = start.initHeaders(200);
  for (unsigned i = 0; i < 200; ++i) headers.set(i, test::bytes_of("x-header-" + std::to_string(i)));
  ASSERT_GT(message.getSegmentsForOutput().size(), 1u);
  std::string out;
  append_frame(message, out);
  EXPECT_EQ(out.size(), frame_size(message));
  EXPECT_EQ(out.substr(0, 4), le32(0));
  FrameReader reader;  // accepts one segment only
  reader.feed(as_bytes(out));
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec)) << ec.message();
  EXPECT_EQ(text_of(frame), root.asReader().toString().flatten().cStr());
}

TEST(FrameCodec, MovedAndDetachedFramesStayValid) {
  const auto samples = test::sample_messages();
  FrameReader reader;
  reader.feed(as_bytes(test::encode(samples[0])));
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec));
  Frame moved = std::move(frame);
  EXPECT_TRUE(frame.empty());
  EXPECT_EQ(text_of(moved), text_of(samples[0]));
  moved.detach();
  EXPECT_EQ(text_of(moved), text_of(samples[0]));
  // The reader's chunk is free again, so it may be overwritten safely.
  reader.feed(as_bytes(test::encode(samples[1])));
  ASSERT_TRUE(reader.next(frame, ec));
  EXPECT_EQ(text_of(moved), text_of(samples[0]));
  EXPECT_EQ(text_of(frame), text_of(samples[1]));
}

TEST(FrameCodec, EmptyFrameReadsAsDefaults) {
  Frame frame;
  EXPECT_TRUE(frame.empty());
  EXPECT_EQ(frame.root().getScope(), 0u);
  EXPECT_TRUE(frame.bytes().empty());
}

TEST(FrameCodec, ReaderCanBeMoved) {
  const std::string bytes = test::encode(test::sample_messages()[5]);
  FrameReader first;
  first.feed(as_bytes(bytes.substr(0, 10)));
  FrameReader second = std::move(first);
  second.feed(as_bytes(bytes.substr(10)));
  Frame frame;
  std::error_code ec;
  EXPECT_TRUE(second.next(frame, ec));
}

// --- incomplete and hostile input ----------------------------------------------------

TEST(FrameCodec, TruncatedFrameWaitsForTheRest) {
  const std::string bytes = test::encode(test::sample_messages()[0]);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    FrameReader reader;
    reader.feed(as_bytes(bytes.substr(0, cut)));
    Frame frame;
    std::error_code ec;
    EXPECT_FALSE(reader.next(frame, ec)) << cut;
    EXPECT_FALSE(ec) << cut;
    reader.feed(as_bytes(bytes.substr(cut)));
    EXPECT_TRUE(reader.next(frame, ec)) << cut;
  }
}

TEST(FrameCodec, HugeSegmentCountIsRejectedFromFourBytes) {
  FrameReader reader;
  reader.feed(as_bytes(le32(0xFFFFFFFF)));
  Frame frame;
  std::error_code ec;
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_EQ(ec, FrameError::too_many_segments);
}

TEST(FrameCodec, HostileSizeClaimDoesNotAllocate) {
  // One segment claiming 2^32-1 words (32 GiB).
  FrameReader reader;
  reader.feed(as_bytes(le32(0) + le32(0xFFFFFFFF)));
  EXPECT_LT(reader.prepare(1).size(), 1u << 20);  // no room reserved for the claim
  Frame frame;
  std::error_code ec;
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_EQ(ec, FrameError::too_large);
}

TEST(FrameCodec, MoreSegmentsThanAllowed) {
  FrameReader reader;  // default: 1 segment
  reader.feed(as_bytes(le32(1) + le32(1) + le32(1) + le32(0) + le64(0) + le64(0)));
  Frame frame;
  std::error_code ec;
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_EQ(ec, FrameError::too_many_segments);
}

TEST(FrameCodec, MultiSegmentSumOverflowIsTooLarge) {
  FrameLimits limits;
  limits.max_segments = 4;
  FrameReader reader(limits);
  reader.feed(as_bytes(le32(3) + le32(0xFFFFFFFF) + le32(0xFFFFFFFF) + le32(0xFFFFFFFF) + le32(0xFFFFFFFF)));
  Frame frame;
  std::error_code ec;
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_EQ(ec, FrameError::too_large);
}

TEST(FrameCodec, MultiSegmentFrameAcceptedWhenAllowed) {
  // Two segments: the root pointer in segment 0 is a far pointer into segment 1.
  FrameLimits limits;
  limits.max_segments = 2;
  FrameReader reader(limits);
  const std::string frame_bytes = le32(1) + le32(1) + le32(4) + le32(0) +
                                  le64(0x0000'0001'0000'0002ULL) +  // far pointer: segment 1, word 0
                                  le64(0x0001'0002'0000'0000ULL) +  // struct: 2 data words, 1 ptr, at +0
                                  le64(0) + le64(4) + le64(0);      // scope 0, heartbeat, null event
  reader.feed(as_bytes(frame_bytes));
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec)) << ec.message();
  EXPECT_EQ(frame.root().which(), wire::Envelope::HEARTBEAT);
  EXPECT_FALSE(validate_worker_message(frame.root()));
}

TEST(FrameCodec, EmptySegmentTable) {
  FrameReader reader;
  reader.feed(as_bytes(le32(0) + le32(0)));
  Frame frame;
  std::error_code ec;
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_EQ(ec, FrameError::empty_segment_table);
}

TEST(FrameCodec, OverLimitFrame) {
  test::SampleMessage body{"body", true, [](wire::Envelope::Builder e) {
                             e.setScope(1);
                             e.initHttpResponseBody().initBody(1000);
                           }};
  const std::string bytes = test::encode(body);
  FrameLimits limits;
  limits.max_message_bytes = bytes.size();
  {
    FrameReader reader(limits);  // exactly at the limit: accepted
    reader.feed(as_bytes(bytes));
    Frame frame;
    std::error_code ec;
    EXPECT_TRUE(reader.next(frame, ec));
  }
  limits.max_message_bytes = bytes.size() - 1;
  FrameReader reader(limits);
  reader.feed(as_bytes(bytes.substr(0, 8)));  // the header alone decides
  Frame frame;
  std::error_code ec;
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_EQ(ec, FrameError::too_large);
}

TEST(FrameCodec, ErrorsAreSticky) {
  FrameReader reader;
  reader.feed(as_bytes(le32(0) + le32(0)));
  Frame frame;
  std::error_code ec;
  EXPECT_FALSE(reader.next(frame, ec));
  reader.feed(as_bytes(test::encode(test::sample_messages()[0])));
  ec.clear();
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_EQ(ec, FrameError::empty_segment_table);
}

TEST(FrameCodec, OutOfBoundsRootIsMalformed) {
  FrameReader reader;
  // Root struct claims 2 data words + 1 pointer, but the segment has 1 word.
  reader.feed(as_bytes(le32(0) + le32(1) + le64(0x0001'0002'0000'0000ULL)));
  Frame frame;
  std::error_code ec;
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_EQ(ec, FrameError::malformed);
  EXPECT_TRUE(frame.empty());
}

TEST(FrameCodec, NestingLimitApplies) {
  // httpResponseStart headers sit three pointers deep: Envelope -> event -> list.
  const auto samples = test::sample_messages();
  const auto& start =
      *std::find_if(samples.begin(), samples.end(), [](auto& s) { return s.name == "http_response_start"; });
  FrameLimits shallow;
  shallow.nesting_limit = 2;
  for (auto [limits, expect_ok] : {std::pair{FrameLimits{}, true}, std::pair{shallow, false}}) {
    FrameReader reader(limits);
    reader.feed(as_bytes(test::encode(start)));
    Frame frame;
    std::error_code ec;
    ASSERT_TRUE(reader.next(frame, ec));
    EXPECT_EQ(!validate_worker_message(frame.root()), expect_ok);
  }
}

// Headers whose N list entries all alias one blob of B bytes: small on the
// wire, N*B bytes when traversed. The traversal budget must stop it.
std::string aliasing_frame(std::uint32_t n, std::uint32_t blob_words) {
  std::string seg;
  seg += le64(0x0001'0002'0000'0000ULL);  // root -> Envelope at +0
  seg += le64(1);                         // scope 1
  seg += le64(20);                        // tag 20: httpResponseTrailers
  seg += le64(0x0001'0000'0000'0000ULL);  // -> Headers {0 data, 1 ptr} at +0
  // Headers.headers -> list of n pointers (element size 6) at +0.
  seg += le64((std::uint64_t(n) << 35) | (6ULL << 32) | 1);
  for (std::uint32_t i = 0; i < n; ++i) {
    // Byte list (element size 2) of blob_words*8 bytes; the blob follows the list.
    const std::uint64_t offset = n - i - 1;
    seg += le64((std::uint64_t(blob_words * 8) << 35) | (2ULL << 32) | (offset << 2) | 1);
  }
  seg += std::string(blob_words * 8, 'a');
  return le32(0) + le32(std::uint32_t(seg.size() / 8)) + seg;
}

TEST(FrameCodec, AliasedPointersHitTheTraversalLimit) {
  const std::string bytes = aliasing_frame(1000, 1000);
  {
    FrameLimits generous;
    generous.traversal_multiplier = 10000;
    FrameReader reader(generous);
    reader.feed(as_bytes(bytes));
    Frame frame;
    std::error_code ec;
    ASSERT_TRUE(reader.next(frame, ec));
    EXPECT_FALSE(validate_worker_message(frame.root()));  // 'a' is a fine name and value
  }
  FrameReader reader;
  reader.feed(as_bytes(bytes));
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec));
  EXPECT_EQ(validate_worker_message(frame.root()), EventError::malformed);
}

TEST(FrameCodec, RandomGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  const auto samples = test::sample_messages();
  for (int round = 0; round < 3000; ++round) {
    std::string bytes;
    if (round % 3 == 0) {
      // A valid frame with random bytes flipped: plausible tables, bad pointers.
      bytes = test::encode(samples[round % samples.size()]);
      for (int flips = 0; flips < 4; ++flips) {
        bytes[rng() % bytes.size()] = char(rng());
      }
    } else {
      const std::size_t words = rng() % 40 + 1;
      bytes = le32(0) + le32(std::uint32_t(words));
      for (std::size_t i = 0; i < words * 8; ++i) bytes += char(rng());
    }
    FrameReader reader;
    reader.feed(as_bytes(bytes));
    Frame frame;
    std::error_code ec;
    while (reader.next(frame, ec)) {
      (void)validate_worker_message(frame.root());
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace pagi::protocol
