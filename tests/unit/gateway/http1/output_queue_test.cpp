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

}  // namespace
}  // namespace pagi::gateway::http1
