// OutputQueue: what may coalesce, and what a pending gathered write borrows.
#include "gateway/http1/output_queue.hpp"

#include <string>

#include <gtest/gtest.h>

namespace pagi::gateway::http1 {
namespace {

TEST(OutputQueue, SmallAppendsCoalesceLargeOnesStandAlone) {
  OutputQueue q;
  q.append("HTTP/1.1 200 OK\r\n\r\n", 0);
  q.append("4000\r\n", 0);
  ASSERT_EQ(q.size(), 1u);
  const std::string body(16384, 'x');
  q.append(body, 0);  // not copied into the head's buffer
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.at(1).data, body);
  q.append("\r\n", 7);  // the body item is full: the CRLF starts an item
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q.at(2).data, "\r\n");
  EXPECT_EQ(q.at(2).credit, 7u);
}

TEST(OutputQueue, ItemsInFlightAreNotGrown) {
  OutputQueue q;
  q.append("abc", 0);
  q.append("def", 0);
  ASSERT_EQ(q.size(), 1u);
  q.set_in_flight(1);
  q.append("ghi", 1);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.at(0).data, "abcdef");
  q.append("jkl", 1);  // behind the write: coalesces
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.at(1).data, "ghijkl");
  EXPECT_EQ(q.at(1).credit, 2u);
  q.set_in_flight(2);
  EXPECT_FALSE(q.retract(3));  // the tail is being written
  q.set_in_flight(0);
  EXPECT_TRUE(q.retract(3));
  EXPECT_EQ(q.at(1).data, "ghi");
}

TEST(OutputQueue, PopAndPushFrontKeepTheInFlightCount) {
  OutputQueue q;
  q.append("a", 0);
  q.mark_response_end();
  q.append("b", 0);
  q.set_in_flight(2);
  q.pop_front();     // one of the two in flight left
  q.append("c", 0);  // "b" is not in flight: coalesces
  EXPECT_EQ(q.at(1).data, "bc");
  q.set_in_flight(1);  // the marker alone
  q.push_front_data("z");
  q.append("d", 0);  // "bc" is behind the two in flight
  EXPECT_EQ(q.at(2).data, "bcd");
}

TEST(OutputQueue, SharedBytesAreQueuedByReferenceAndReleasedWhenPopped) {
  OutputQueue q;
  const auto body = protocol::SharedBytes::copy_of(std::string(10000, 'b'));
  q.append("head", 0);
  q.append_shared(body, 10000);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_TRUE(q.at(1).is_shared());
  EXPECT_EQ(q.at(1).bytes().data(), body.data());  // not copied
  EXPECT_EQ(body.use_count(), 2u);
  EXPECT_EQ(q.pinned_chunks(), 1u);
  q.append("\r\n", 0);  // never coalesces into a shared item
  ASSERT_EQ(q.size(), 3u);
  EXPECT_TRUE(q.retract(2));  // the CRLF item, not the shared body
  EXPECT_EQ(q.size(), 2u);
  EXPECT_FALSE(q.retract(1));  // a shared item is never cut
  q.pop_front();
  const auto item = q.pop_front();
  EXPECT_EQ(item.credit, 10000u);
  EXPECT_EQ(q.pinned_chunks(), 0u);
  EXPECT_EQ(body.use_count(), 2u);  // `item` still holds it
}

TEST(OutputQueue, AtMostTwoChunksArePinnedFurtherBodiesAreCopied) {
  OutputQueue q;
  const auto a = protocol::SharedBytes::copy_of(std::string(5000, 'a'));
  const auto b = protocol::SharedBytes::copy_of(std::string(5000, 'b'));
  const auto c = protocol::SharedBytes::copy_of(std::string(5000, 'c'));
  q.append_shared(a, 0);
  q.append_shared(a, 0);  // same chunk: the same run
  q.append_shared(b, 0);
  EXPECT_EQ(q.pinned_chunks(), 2u);
  q.append_shared(c, 0);  // a third chunk: copied
  EXPECT_FALSE(q.at(3).is_shared());
  EXPECT_EQ(q.at(3).data, std::string(5000, 'c'));
  EXPECT_EQ(c.use_count(), 1u);
  q.append_shared(b, 0);  // still b's run
  EXPECT_TRUE(q.at(4).is_shared());
  q.pop_front();  // a's run goes on
  EXPECT_EQ(q.pinned_chunks(), 2u);
  q.pop_front();  // a's run ended
  EXPECT_EQ(q.pinned_chunks(), 1u);
  q.append_shared(c, 0);
  EXPECT_TRUE(q.at(q.size() - 1).is_shared());
  EXPECT_EQ(q.pinned_chunks(), 2u);
  q.clear();
  EXPECT_EQ(q.pinned_chunks(), 0u);
  EXPECT_EQ(a.use_count(), 1u);
  EXPECT_EQ(b.use_count(), 1u);
  EXPECT_EQ(c.use_count(), 1u);
}

TEST(OutputQueue, ShortWriteCopiesSharedItemsOutUntilAWriteCompletes) {
  OutputQueue q;
  const auto a = protocol::SharedBytes::copy_of(std::string(8000, 'a'));
  q.append_shared(a, 8000);
  q.append_shared(a, 8000);
  q.set_in_flight(2);
  q.at(0).sent = 3000;  // what the short write took
  q.set_in_flight(0);
  q.on_write_result(false);
  EXPECT_TRUE(q.stalled());
  EXPECT_EQ(a.use_count(), 1u);
  EXPECT_EQ(q.at(0).bytes(), std::string(5000, 'a'));  // the unsent rest
  EXPECT_EQ(q.at(0).sent, 0u);
  EXPECT_EQ(q.at(0).credit, 8000u);
  EXPECT_EQ(q.pinned_chunks(), 0u);
  q.append_shared(a, 0);  // stalled: copied
  EXPECT_FALSE(q.at(2).is_shared());
  q.on_write_result(true);
  q.append_shared(a, 0);
  EXPECT_TRUE(q.at(3).is_shared());
  EXPECT_EQ(a.use_count(), 2u);
}

TEST(OutputQueue, ItemsInFlightStaySharedOnAShortWrite) {
  OutputQueue q;
  const auto a = protocol::SharedBytes::copy_of(std::string(8000, 'a'));
  const auto b = protocol::SharedBytes::copy_of(std::string(8000, 'b'));
  q.append_shared(a, 0);
  q.append_shared(b, 0);
  q.set_in_flight(1);  // a's bytes are borrowed by a pending write
  q.on_write_result(false);
  EXPECT_TRUE(q.at(0).is_shared());
  EXPECT_FALSE(q.at(1).is_shared());
  EXPECT_EQ(q.pinned_chunks(), 1u);
  EXPECT_EQ(b.use_count(), 1u);
}

}  // namespace
}  // namespace pagi::gateway::http1
