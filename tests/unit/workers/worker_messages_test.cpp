// The frame writers' fast paths (frames built in place, body frames with
// their bytes appended raw) must produce exactly the bytes of a plain
// Cap'n Proto encoding, which every SDK decodes.
#include "workers/worker_messages.hpp"

#include <cstddef>
#include <string>

#include <capnp/message.h>
#include <gtest/gtest.h>

#include "protocol/frame_codec.hpp"
#include "protocol/pagi.capnp.h"
#include "workers/stream_messages.hpp"

namespace pagi::workers {
namespace {

std::string reference_body_frame(std::uint64_t scope, std::string_view body, bool more, bool sse) {
  capnp::MallocMessageBuilder message;
  auto env = message.initRoot<wire::Envelope>();
  env.setScope(scope);
  auto b = sse ? env.initSseRequest() : env.initHttpRequest();
  b.setBody({reinterpret_cast<const capnp::byte*>(body.data()), body.size()});
  b.setMore(more);
  std::string out;
  protocol::append_frame(message, out);
  return out;
}

std::string body_of(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

TEST(WorkerMessages, BodyFramesMatchThePlainEncoding) {
  for (std::size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 1000, 16384, 65536, 65537}) {
    for (bool more : {false, true}) {
      for (bool sse : {false, true}) {
        const std::string body = body_of(n);
        std::string out = "prefix!!";  // a frame already queued (8 bytes)
        if (sse)
          messages::append_sse_request(out, 0x1234567890ULL, body, more);
        else
          messages::append_http_request(out, 0x1234567890ULL, body, more);
        EXPECT_EQ(out.substr(8), reference_body_frame(0x1234567890ULL, body, more, sse))
            << "n=" << n << " more=" << more << " sse=" << sse;
      }
    }
  }
}

TEST(WorkerMessages, FramesInOneBufferDecodeInOrder) {
  std::string out;
  const std::string big = body_of(70000);
  messages::append_http_request(out, 7, big, true);
  messages::append_credit(out, 7, 4096);
  messages::append_http_request(out, 7, "tail", false);
  messages::append_response_done(out, 7);
  protocol::FrameReader reader;
  reader.feed({reinterpret_cast<const std::byte*>(out.data()), out.size()});
  protocol::Frame frame;
  std::error_code ec;
  ASSERT_TRUE(reader.next(frame, ec));
  ASSERT_EQ(frame.root().which(), wire::Envelope::HTTP_REQUEST);
  auto body = frame.root().getHttpRequest().getBody();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(body.begin()), body.size()), big);
  EXPECT_TRUE(frame.root().getHttpRequest().getMore());
  ASSERT_TRUE(reader.next(frame, ec));
  ASSERT_EQ(frame.root().which(), wire::Envelope::CREDIT);
  EXPECT_EQ(frame.root().getCredit().getBytes(), 4096u);
  ASSERT_TRUE(reader.next(frame, ec));
  ASSERT_EQ(frame.root().which(), wire::Envelope::HTTP_REQUEST);
  EXPECT_FALSE(frame.root().getHttpRequest().getMore());
  ASSERT_TRUE(reader.next(frame, ec));
  EXPECT_EQ(frame.root().which(), wire::Envelope::RESPONSE_DONE);
  EXPECT_EQ(frame.root().getScope(), 7u);
  EXPECT_FALSE(reader.next(frame, ec));
  EXPECT_FALSE(ec);
  EXPECT_EQ(out.size() % 8, 0u);
}

}  // namespace
}  // namespace pagi::workers
