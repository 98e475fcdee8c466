// SharedBytes: a body shared out of a frame keeps its read chunk alive and
// unchanged while the reader goes on reading into other chunks.
#include <string>
#include <vector>

#include <capnp/message.h>
#include <gtest/gtest.h>

#include "protocol/frame_codec.hpp"

namespace pagi::protocol {
namespace {

std::string body_frame(std::uint64_t scope, const std::string& body) {
  capnp::MallocMessageBuilder message;
  auto env = message.initRoot<wire::Envelope>();
  env.setScope(scope);
  auto b = env.initHttpResponseBody();
  b.setBody(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(body.data()), body.size()));
  b.setMore(true);
  std::string out;
  append_frame(message, out);
  return out;
}

std::string_view body_of(const Frame& frame) {
  const auto data = frame.root().getHttpResponseBody().getBody();
  return {reinterpret_cast<const char*>(data.begin()), data.size()};
}

void feed(FrameReader& reader, const std::string& bytes) {
  reader.feed({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
}

TEST(SharedBytes, ShareViewsTheFrameWithoutCopying) {
  FrameReader reader;
  feed(reader, body_frame(1, std::string(10000, 'a')));
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec));
  const auto body = body_of(frame);
  const SharedBytes shared = frame.share(body);
  EXPECT_EQ(shared.data(), body.data());  // the same bytes, not a copy
  EXPECT_EQ(shared.view(), std::string(10000, 'a'));
  EXPECT_GE(shared.use_count(), 3u);  // reader, frame, this
}

TEST(SharedBytes, ChunkOutlivesFrameAndReaderAndIsNeverOverwritten) {
  std::vector<SharedBytes> queued;
  {
    FrameReader reader;
    Frame frame;  // reused, as the worker connection does
    std::error_code ec;
    // Many frames through few chunks: a shared chunk must not be compacted
    // or refilled under the queued views.
    for (int i = 0; i < 200; ++i) {
      feed(reader, body_frame(i, std::string(5000 + i, char('a' + i % 26))));
      ASSERT_TRUE(reader.next(frame, ec)) << ec.message();
      if (i % 3 == 0) queued.push_back(frame.share(body_of(frame)));
      if (queued.size() > 5) queued.erase(queued.begin());  // some written, released
      for (std::size_t k = 0; k < queued.size(); ++k) {
        const int j = i - i % 3 - 3 * static_cast<int>(queued.size() - 1 - k);
        ASSERT_EQ(queued[k].view(), std::string(5000 + j, char('a' + j % 26))) << i << " " << k;
      }
    }
  }  // reader and frame gone: the queued views hold their chunks alone
  ASSERT_FALSE(queued.empty());
  for (const auto& q : queued) {
    EXPECT_GE(q.use_count(), 1u);
    EXPECT_EQ(q.view().find_first_not_of(q.view().front()), std::string_view::npos);
  }
}

TEST(SharedBytes, CopiesAndMovesCountReferences) {
  FrameReader reader;
  feed(reader, body_frame(1, std::string(6000, 'z')));
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec));
  SharedBytes a = frame.share(body_of(frame));
  const auto base = a.use_count();
  {
    SharedBytes b = a;
    EXPECT_EQ(a.use_count(), base + 1);
    SharedBytes c = std::move(b);
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(a.use_count(), base + 1);
    c = SharedBytes{};
    EXPECT_EQ(a.use_count(), base);
  }
  EXPECT_EQ(a.use_count(), base);
}

TEST(SharedBytes, ViewOutsideTheFrameIsCopied) {
  FrameReader reader;
  feed(reader, body_frame(1, "inside"));
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec));
  const std::string elsewhere = "outside bytes";
  const SharedBytes s = frame.share(elsewhere);
  EXPECT_NE(s.data(), elsewhere.data());
  EXPECT_EQ(s.view(), elsewhere);
  EXPECT_EQ(s.use_count(), 1u);
  EXPECT_TRUE(Frame().share("x").view() == "x");  // an empty frame copies too
  EXPECT_TRUE(frame.share({}).empty());
}

TEST(SharedBytes, DetachedFrameSharesItsOwnCopy) {
  FrameReader reader;
  feed(reader, body_frame(1, std::string(5000, 'q')));
  Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec));
  frame.detach();
  const SharedBytes s = frame.share(body_of(frame));
  EXPECT_EQ(s.data(), body_of(frame).data());
  EXPECT_EQ(s.use_count(), 2u);  // the frame's own storage and this
  frame = Frame{};
  EXPECT_EQ(s.use_count(), 1u);
  EXPECT_EQ(s.view(), std::string(5000, 'q'));
}

}  // namespace
}  // namespace pagi::protocol
