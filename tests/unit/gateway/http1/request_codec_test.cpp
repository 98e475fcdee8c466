// The request codec and its strict head scan, including every request
// smuggling defense (each must answer 400 and end the connection).
#include "gateway/http1/request_codec.hpp"

#include <string>

#include <gtest/gtest.h>

namespace pagi::gateway::http1 {
namespace {

CodecLimits limits() {
  CodecLimits l;
  l.max_request_line = 64;
  l.max_header_bytes = 256;
  l.max_headers = 5;
  l.max_body_bytes = 100;
  return l;
}

struct Outcome {
  bool head = false;
  std::string body;
  bool end = false;
  RequestError error = RequestError::none;
  std::size_t consumed = 0;
};

// Feeds all of `input` (optionally byte by byte) with an unlimited budget.
Outcome run(RequestCodec& c, std::string_view input, bool bytewise = false) {
  Outcome o;
  std::size_t avail = bytewise ? 0 : input.size();
  while (true) {
    const auto ev = c.feed(input.substr(o.consumed, avail - o.consumed), SIZE_MAX);
    o.consumed += ev.consumed;
    using K = RequestCodec::EventKind;
    switch (ev.kind) {
      case K::head: o.head = true; break;
      case K::body: o.body.append(ev.body); break;
      case K::end: o.end = true; return o;
      case K::error: o.error = ev.error; return o;
      case K::blocked: return o;
      case K::need_more:
        if (avail >= input.size()) return o;
        avail = bytewise ? avail + 1 : input.size();
        break;
    }
  }
}

Outcome run(std::string_view input, bool bytewise = false) {
  RequestCodec c(limits());
  return run(c, input, bytewise);
}

TEST(RequestCodec, SimpleGet) {
  RequestCodec c(limits());
  const auto o = run(c, "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Up: V\r\n\r\n");
  EXPECT_TRUE(o.head);
  EXPECT_TRUE(o.end);
  EXPECT_EQ(c.head().method(), "GET");
  EXPECT_EQ(c.head().target(), "/a?b=1");
  EXPECT_EQ(c.head().version(), 11);
  ASSERT_EQ(c.head().header_count(), 2u);
  EXPECT_EQ(c.head().header_name(1), "x-up");
  EXPECT_EQ(c.head().header_value(1), "V");
  EXPECT_TRUE(c.head().keep_alive);
  EXPECT_FALSE(c.head().has_body());
}

TEST(RequestCodec, ByteByByteAndPipelined) {
  RequestCodec c(limits());
  const std::string two = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.0\r\n\r\n";
  auto o = run(c, two, true);
  EXPECT_TRUE(o.end);
  EXPECT_EQ(c.head().target(), "/1");
  c.next_message();
  o = run(c, std::string_view(two).substr(o.consumed));
  EXPECT_TRUE(o.end);
  EXPECT_EQ(c.head().target(), "/2");
  EXPECT_EQ(c.head().version(), 10);
  EXPECT_FALSE(c.head().keep_alive);
}

TEST(RequestCodec, ContentLengthBody) {
  const auto o = run("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET", true);
  EXPECT_TRUE(o.end);
  EXPECT_EQ(o.body, "hello");
}

TEST(RequestCodec, ChunkedBodyIsDechunked) {
  const auto o =
      run("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n");
  EXPECT_EQ(o.error, RequestError::none);
  EXPECT_TRUE(o.end);
  EXPECT_EQ(o.body, "abcde");
}

TEST(RequestCodec, BodyBudgetIsRespected) {
  RequestCodec c(limits());
  const std::string req = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
  auto ev = c.feed(req, 0);
  ASSERT_EQ(ev.kind, RequestCodec::EventKind::head);
  std::size_t used = ev.consumed;
  ev = c.feed(std::string_view(req).substr(used), 0);
  EXPECT_EQ(ev.kind, RequestCodec::EventKind::blocked);
  EXPECT_EQ(ev.consumed, 0u);
  ev = c.feed(std::string_view(req).substr(used), 4);
  ASSERT_EQ(ev.kind, RequestCodec::EventKind::body);
  EXPECT_EQ(ev.body, "0123");
  EXPECT_FALSE(ev.last);
  used += ev.consumed;
  ev = c.feed(std::string_view(req).substr(used), 100);
  ASSERT_EQ(ev.kind, RequestCodec::EventKind::body);
  EXPECT_EQ(ev.body, "456789");
  EXPECT_TRUE(ev.last);
  EXPECT_EQ(c.feed({}, 0).kind, RequestCodec::EventKind::end);
}

TEST(RequestCodec, ExpectContinue) {
  RequestCodec c(limits());
  run(c, "PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n");
  EXPECT_TRUE(c.head().expect_continue);
}

// ---- limits ----

TEST(RequestCodec, RequestLineTooLongIs414EvenBeforeItsEnd) {
  EXPECT_EQ(run("GET /" + std::string(100, 'a')).error, RequestError::request_line_too_long);
  EXPECT_EQ(run("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n").error, RequestError::request_line_too_long);
  // Exactly at the limit is fine.
  const std::string line = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size(), 64u);
  EXPECT_TRUE(run(line + "\r\n\r\n").end);
}

TEST(RequestCodec, HeaderSectionTooLargeIs431) {
  EXPECT_EQ(run("GET / HTTP/1.1\r\nX: " + std::string(300, 'v') + "\r\n\r\n").error, RequestError::headers_too_large);
  EXPECT_EQ(run("GET / HTTP/1.1\r\nX: " + std::string(300, 'v')).error, RequestError::headers_too_large);
}

TEST(RequestCodec, TooManyHeadersIs431) {
  std::string req = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 6; ++i) req += "H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(run(req + "\r\n").error, RequestError::headers_too_large);
}

TEST(RequestCodec, DeclaredBodyTooLargeIs413) {
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n").error, RequestError::body_too_large);
}

TEST(RequestCodec, StreamedChunkedBodyTooLargeIs413) {
  const auto o = run("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + std::string(64, 'a') +
                     "\r\n40\r\n" + std::string(64, 'a') + "\r\n0\r\n\r\n");
  EXPECT_EQ(o.error, RequestError::body_too_large);
}

TEST(RequestCodec, UnknownTransferCodingIs501) {
  EXPECT_EQ(run("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").error, RequestError::unsupported_coding);
}

TEST(RequestCodec, Malformed) {
  EXPECT_EQ(run("GET\r\n\r\n").error, RequestError::malformed);
  EXPECT_EQ(run("GET / HTTP/1.1\nHost: x\n\n").error, RequestError::malformed);  // bare LF
  EXPECT_EQ(run("GET / HTTP/1.1\r\nNoColon\r\n\r\n").error, RequestError::malformed);
  EXPECT_EQ(run("GET / HTTP/3.0\r\n\r\n").error, RequestError::malformed);
  EXPECT_EQ(run("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n").error, RequestError::malformed);
}

// ---- smuggling defenses: 400 ----

TEST(RequestSmuggling, TransferEncodingWithContentLength) {
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n").error,
            RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").error,
            RequestError::smuggling);
}

TEST(RequestSmuggling, DuplicateContentLengthEvenEqual) {
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc").error, RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc").error, RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc").error, RequestError::smuggling);
}

TEST(RequestSmuggling, NonNumericContentLength) {
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc").error, RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: 0x3\r\n\r\nabc").error, RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n").error, RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").error, RequestError::smuggling);
}

TEST(RequestSmuggling, ObsFold) {
  EXPECT_EQ(run("GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n").error, RequestError::smuggling);
  EXPECT_EQ(run("GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n").error, RequestError::smuggling);
}

TEST(RequestSmuggling, WhitespaceBeforeColon) {
  EXPECT_EQ(run("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n").error, RequestError::smuggling);
  EXPECT_EQ(run("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n").error, RequestError::smuggling);
}

TEST(RequestSmuggling, ChunkedNotLast) {
  EXPECT_EQ(run("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").error, RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").error, RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n").error,
            RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n").error, RequestError::smuggling);
  EXPECT_EQ(run("POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n").error, RequestError::smuggling);
  // HTTP/1.0 has no transfer codings.
  EXPECT_EQ(run("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").error, RequestError::smuggling);
}

TEST(RequestSmuggling, BadChunkFraming) {
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(run(head + "zz\r\nab\r\n0\r\n\r\n").error, RequestError::malformed);  // bad size
  EXPECT_EQ(run(head + "-1\r\nab\r\n0\r\n\r\n").error, RequestError::malformed);
  EXPECT_EQ(run(head + "2\r\nabXX0\r\n\r\n").error, RequestError::malformed);                  // missing CRLF
  EXPECT_EQ(run(head + "2;x y\r\nab\r\n0\r\n\r\n").error, RequestError::malformed);            // bad ext
  EXPECT_EQ(run(head + "2;x=\"a\r\nb\"\r\nab\r\n0\r\n\r\n").error, RequestError::malformed);   // CRLF in quotes
  EXPECT_EQ(run(head + "2\nab\r\n0\r\n\r\n").error, RequestError::malformed);                  // bare LF
  EXPECT_EQ(run(head + "2\r\nab\r\n0\r\nX: a\r\n b\r\n\r\n").error, RequestError::smuggling);  // folded trailer
  EXPECT_EQ(run(head + "ffffffffffffffffff\r\n").error, RequestError::malformed);              // overflow
  // Extension abuse: many extension bytes in total.
  std::string abuse = head;
  for (int i = 0; i < 40; ++i) abuse += "1;name=" + std::string(10, 'v') + "\r\na\r\n";
  RequestCodec c(limits());
  CodecLimits big = limits();
  big.max_body_bytes = 0;
  RequestCodec c2(big);
  EXPECT_EQ(run(c2, abuse).error, RequestError::malformed);
  // A chunk header that never ends.
  EXPECT_EQ(run(head + "1;" + std::string(400, 'x')).error, RequestError::malformed);
}

TEST(RequestCodec, LeadingEmptyLinesAreSkipped) {
  RequestCodec c(limits());
  EXPECT_TRUE(run(c, "\r\n\r\nGET / HTTP/1.1\r\n\r\n").end);
  EXPECT_EQ(c.head().target(), "/");
}

}  // namespace
}  // namespace pagi::gateway::http1
