#include "gateway/sse/encoder.hpp"

#include <gtest/gtest.h>

#include "gateway/sse/detection.hpp"

namespace pagi::gateway::sse {
namespace {

std::string encode(workers::SseEventView e) {
  std::string out;
  EXPECT_TRUE(append_event(out, e));
  return out;
}

TEST(SseEncoder, DataOnly) {
  workers::SseEventView e;
  e.data = "hello";
  EXPECT_EQ(encode(e), "data: hello\n\n");
  e.data = "";
  EXPECT_EQ(encode(e), "data: \n\n");
}

TEST(SseEncoder, AllFieldsInOrder) {
  workers::SseEventView e;
  e.data = "x";
  e.has_event = true;
  e.event = "update";
  e.has_id = true;
  e.id = "42";
  e.retry = 3000;
  EXPECT_EQ(encode(e), "event: update\nid: 42\nretry: 3000\ndata: x\n\n");
  e.retry = 0;
  e.has_event = false;
  e.has_id = false;
  EXPECT_EQ(encode(e), "retry: 0\ndata: x\n\n");
}

TEST(SseEncoder, DataSplitOnEveryLineBreak) {
  workers::SseEventView e;
  e.data = "a\nb\r\nc\rd";
  EXPECT_EQ(encode(e), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  e.data = "end\n";
  EXPECT_EQ(encode(e), "data: end\ndata: \n\n");
  e.data = "\r\r\n";
  EXPECT_EQ(encode(e), "data: \ndata: \ndata: \n\n");
}

TEST(SseEncoder, RejectsFrameForgery) {
  for (std::string_view bad : {std::string_view("a\nb"), std::string_view("a\rb"), std::string_view("a\0b", 3)}) {
    workers::SseEventView e;
    e.data = "x";
    e.has_event = true;
    e.event = bad;
    std::string out = "keep";
    EXPECT_FALSE(append_event(out, e));
    EXPECT_EQ(out, "keep");
    e.has_event = false;
    e.has_id = true;
    e.id = bad;
    EXPECT_FALSE(append_event(out, e));
  }
}

TEST(SseEncoder, Comments) {
  std::string out;
  EXPECT_TRUE(append_comment(out, "keepalive"));
  EXPECT_EQ(out, ":keepalive\n\n");
  out.clear();
  EXPECT_TRUE(append_comment(out, ":already"));
  EXPECT_EQ(out, ":already\n\n");
  out.clear();
  EXPECT_TRUE(append_comment(out, ""));
  EXPECT_EQ(out, ":\n\n");
  EXPECT_FALSE(append_comment(out, "a\nb"));
}

TEST(SseDetection, AcceptHeader) {
  using H = workers::HeaderView;
  std::vector<H> h{{"accept", "text/event-stream"}};
  EXPECT_TRUE(accepts_event_stream(h));
  h = {{"accept", "text/html, Text/Event-Stream;q=0.9"}};
  EXPECT_TRUE(accepts_event_stream(h));
  h = {{"accept", "text/html"}, {"accept", "text/event-stream"}};
  EXPECT_TRUE(accepts_event_stream(h));
  h = {{"accept", "text/event-streams"}};
  EXPECT_FALSE(accepts_event_stream(h));
  h = {{"content-type", "text/event-stream"}};
  EXPECT_FALSE(accepts_event_stream(h));
}

}  // namespace
}  // namespace pagi::gateway::sse
