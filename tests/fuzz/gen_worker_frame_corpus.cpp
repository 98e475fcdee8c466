// Writes the seed corpus of worker_frame_fuzz into the directory given as the
// only argument (tests/fuzz/corpus/worker_frame). Each file is the fuzz input
// format: a read-size byte, a flags byte, then a stream of frames. Seeds are
// every sample message, a few invalid events, streams delivered in small
// reads, and hand-made hostile framing.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <capnp/message.h>

#include "protocol/frame_codec.hpp"
#include "tests/unit/protocol/sample_messages.hpp"

namespace {

namespace fs = std::filesystem;
using pagi::test::SampleMessage;
using E = pagi::wire::Envelope::Builder;

std::string le32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = char((v >> (8 * i)) & 0xff);
  return s;
}
std::string le64(std::uint64_t v) { return le32(std::uint32_t(v)) + le32(std::uint32_t(v >> 32)); }

std::string input(char read_size, char flags, const std::string& stream) {
  return std::string{read_size, flags} + stream;
}

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Events a worker might send that validation must reject.
std::vector<SampleMessage> invalid_events() {
  using pagi::test::set_headers;
  using pagi::test::text_of;
  return {
      {"bad_status", true,
       [](E e) {
         e.setScope(1);
         e.initHttpResponseStart().setStatus(99);
       }},
      {"crlf_header", true,
       [](E e) {
         e.setScope(1);
         auto r = e.initHttpResponseStart();
         r.setStatus(200);
         set_headers(r.initHeaders(2), {{"x", "a\r\nInjected: 1"}});
       }},
      {"odd_headers", true,
       [](E e) {
         e.setScope(1);
         e.initHttpResponseTrailers().initHeaders(3);
       }},
      {"relative_file", true,
       [](E e) {
         e.setScope(1);
         e.initHttpResponseBody().setFile("etc/passwd");
       }},
      {"ring_span_with_bytes", true,
       [](E e) {
         e.setScope(1);
         auto b = e.initHttpResponseBody();
         b.setRingLength(4);
         b.setBody(pagi::test::bytes_of("abcd"));
       }},
      {"bad_utf8_text", true,
       [](E e) {
         e.setScope(1);
         auto m = e.initWebsocketSend();
         m.setIsText(true);
         m.setText(text_of("\xc3\x28"));
       }},
      {"sse_id_newline", true,
       [](E e) {
         e.setScope(1);
         e.initSseSend().setId("1\n2");
       }},
      {"hello_on_scope", true,
       [](E e) {
         e.setScope(9);
         e.initHello();
       }},
      {"gateway_open", false,
       [](E e) {
         e.setScope(1);
         e.initOpen();
       }},
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);

  std::string all_worker;
  for (const auto& sample : pagi::test::sample_messages()) {
    const std::string frame = pagi::test::encode(sample);
    write(dir, sample.name, input(0, 0, frame));
    if (sample.from_worker) all_worker += frame;
  }
  for (const auto& sample : invalid_events())
    write(dir, "invalid_" + sample.name, input(0, 0, pagi::test::encode(sample)));

  // The whole worker vocabulary as one stream, in reads of several sizes.
  write(dir, "stream_all_at_once", input(0, 0, all_worker));
  write(dir, "stream_by_1", input(1, 0, all_worker));
  write(dir, "stream_by_7", input(7, 0, all_worker));
  write(dir, "stream_by_200", input(char(200), 0, all_worker));

  // Body ring spans (the fuzz target gives each input a fresh 64 KiB ring):
  // a valid run that wraps and reuses released room, and spans that break
  // each rule.
  {
    const auto span = [](std::uint64_t position, std::uint32_t length) {
      return pagi::test::encode({"span", true, [=](E e) {
                                   e.setScope(1);
                                   auto b = e.initHttpResponseBody();
                                   b.setRingPosition(position);
                                   b.setRingLength(length);
                                   b.setMore(true);
                                 }});
    };
    std::string valid;
    for (std::uint64_t p = 0; p < 4 * 65536; p += 16384) valid += span(p, 16384);
    write(dir, "ring_spans_wrapping", input(0, 0, valid));
    write(dir, "ring_span_overlapping_previous", input(0, 0, span(100, 4096) + span(200, 4096)));
    write(dir, "ring_span_across_the_end", input(0, 0, span(65536 - 10, 20)));
    write(dir, "ring_span_past_held_bytes", input(0, 0, span(0, 65536) + span(65536, 1)));
    write(dir, "ring_span_huge_position", input(0, 0, span(~std::uint64_t{0} - 3, 2)));
  }

  // Hostile framing.
  write(dir, "hostile_segment_count", input(0, 0, le32(0xFFFFFFFF)));
  write(dir, "hostile_size_claim", input(0, 0, le32(0) + le32(0xFFFFFFFF)));
  write(dir, "hostile_empty_table", input(0, 0, le32(0) + le32(0)));
  write(dir, "hostile_two_segments", input(0, 0, le32(1) + le32(1) + le32(1) + le32(0) + le64(0) + le64(0)));
  write(dir, "hostile_root_out_of_bounds", input(0, 0, le32(0) + le32(1) + le64(0x0001'0002'0000'0000ULL)));
  const std::string hello = pagi::test::encode(pagi::test::sample_messages()[0]);
  write(dir, "hostile_truncated", input(0, 0, hello.substr(0, hello.size() - 3)));
  // Two segments, root through a far pointer (accepted with flag bit 0).
  write(dir, "multi_segment_far_pointer",
        input(0, 1,
              le32(1) + le32(1) + le32(4) + le32(0) + le64(0x0000'0001'0000'0002ULL) + le64(0x0001'0002'0000'0000ULL) +
                  le64(0) + le64(4) + le64(0)));
  // Trailers whose 64 header entries alias one 64-word blob.
  {
    const std::uint32_t n = 64, blob_words = 64;
    std::string seg = le64(0x0001'0002'0000'0000ULL) + le64(1) + le64(20) + le64(0x0001'0000'0000'0000ULL) +
                      le64((std::uint64_t(n) << 35) | (6ULL << 32) | 1);
    for (std::uint32_t i = 0; i < n; ++i) {
      seg += le64((std::uint64_t(blob_words * 8) << 35) | (2ULL << 32) | (std::uint64_t(n - i - 1) << 2) | 1);
    }
    seg += std::string(blob_words * 8, 'a');
    write(dir, "hostile_aliasing", input(0, 0, le32(0) + le32(std::uint32_t(seg.size() / 8)) + seg));
  }
  return 0;
}
