// The HTTP/2 session wrapper fed raw frames: a valid request, then the
// protocol errors nghttp2 must turn into GOAWAY/RST_STREAM, the flow-control
// tie to consume(), responses with trailers, and the flood defences.
#include "gateway/http2/session.hpp"

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pagi::gateway::http2 {
namespace {

constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
enum : std::uint8_t {
  DATA = 0,
  HEADERS = 1,
  RST_STREAM = 3,
  SETTINGS = 4,
  PING = 6,
  GOAWAY = 7,
  WINDOW_UPDATE = 8,
  CONTINUATION = 9
};
enum : std::uint8_t { END_STREAM = 1, ACK = 1, END_HEADERS = 4 };
enum : std::uint32_t {
  PROTOCOL_ERROR = 1,
  FLOW_CONTROL_ERROR = 3,
  FRAME_SIZE_ERROR = 6,
  COMPRESSION_ERROR = 9,
  ENHANCE_YOUR_CALM = 11
};

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string_view payload) {
  std::string f;
  const auto n = payload.size();
  f.push_back(static_cast<char>(n >> 16));
  f.push_back(static_cast<char>(n >> 8));
  f.push_back(static_cast<char>(n));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>(stream >> shift));
  f.append(payload);
  return f;
}

std::string u32(std::uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
  return s;
}

// HPACK literal header field without indexing, new name, no Huffman.
std::string literal(std::string_view name, std::string_view value) {
  std::string s;
  s.push_back(0);
  s.push_back(static_cast<char>(name.size()));
  s.append(name);
  s.push_back(static_cast<char>(value.size()));
  s.append(value);
  return s;
}

std::string request_block(std::string_view method = "GET", std::string_view path = "/a?b=1") {
  return literal(":method", method) + literal(":scheme", "http") + literal(":path", path) +
         literal(":authority", "example.test") + literal("cookie", "a=1") + literal("cookie", "b=2");
}

std::string client_start() { return std::string(preface) + frame(SETTINGS, 0, 0, {}); }

struct Frame {
  std::uint8_t type;
  std::uint8_t flags;
  std::uint32_t stream;
  std::string payload;
  std::uint32_t error_code() const {  // GOAWAY / RST_STREAM
    const std::size_t at = type == GOAWAY ? 4 : 0;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(payload[at + i]);
    return v;
  }
};

std::vector<Frame> parse(std::string_view bytes) {
  std::vector<Frame> out;
  while (bytes.size() >= 9) {
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = (b[0] << 16) | (b[1] << 8) | b[2];
    Frame f{b[3], b[4], ((b[5] & 0x7fu) << 24) | (b[6] << 16) | (b[7] << 8) | b[8], std::string(bytes.substr(9, n))};
    out.push_back(f);
    bytes.remove_prefix(9 + n);
  }
  return out;
}

struct Recorder : SessionHandler {
  std::vector<std::string> events;
  std::map<StreamId, std::vector<std::pair<std::string, std::string>>> headers;
  std::map<StreamId, std::string> data;
  std::map<StreamId, std::uint32_t> closed;
  std::string body = "hello";
  bool body_done = true;
  bool trailers = false;
  Session* session = nullptr;

  void on_request_begin(StreamId id) override { events.push_back("begin " + std::to_string(id)); }
  void on_request_header(StreamId id, std::string_view n, std::string_view v) override {
    headers[id].emplace_back(n, v);
  }
  void on_request_headers_done(StreamId id, bool end) override {
    events.push_back("headers " + std::to_string(id) + (end ? " end" : ""));
  }
  void on_request_data(StreamId id, std::string_view d) override { data[id].append(d); }
  void on_request_end(StreamId id) override { events.push_back("end " + std::to_string(id)); }
  void on_stream_closed(StreamId id, std::uint32_t code) override { closed[id] = code; }
  void on_response_complete(StreamId id) override { events.push_back("complete " + std::to_string(id)); }
  BodyPull pull_body(StreamId id, std::span<std::uint8_t> buf) override {
    BodyPull p;
    const auto n = std::min(body.size(), buf.size());
    std::memcpy(buf.data(), body.data(), n);
    body.erase(0, n);
    p.bytes = n;
    if (body.empty() && body_done) {
      p.eof = true;
      if (trailers) {
        p.trailers = true;
        const workers::HeaderView t[] = {{"x-checksum", "abc"}};
        session->submit_trailers(id, t);
      }
    } else if (n == 0) {
      p.deferred = true;
    }
    return p;
  }
};

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override { make(); }
  void make() {
    session_.reset();
    session_ = std::make_unique<Session>(rec_, settings_);
    rec_.session = session_.get();
    session_->start();
    drain();
  }
  std::vector<Frame> drain() {
    std::string out;
    EXPECT_TRUE(session_->produce(out, 1 << 20));
    return parse(out);
  }
  // By value: callers often pass drain()'s temporary.
  static std::optional<Frame> find(const std::vector<Frame>& frames, std::uint8_t type) {
    for (const auto& f : frames)
      if (f.type == type) return f;
    return std::nullopt;
  }

  HttpSettings settings_;
  Recorder rec_;
  std::unique_ptr<Session> session_;
};

TEST_F(SessionTest, ServerSendsSettingsAndConnectionWindowFirst) {
  Session s(rec_, settings_);
  s.start();
  std::string out;
  ASSERT_TRUE(s.produce(out, 1 << 20));
  const auto frames = parse(out);
  ASSERT_GE(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, SETTINGS);
  EXPECT_TRUE(find(frames, WINDOW_UPDATE).has_value());
}

TEST_F(SessionTest, GetRequestReportsHeadersAndEndStream) {
  ASSERT_TRUE(session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block())));
  EXPECT_EQ(rec_.events, (std::vector<std::string>{"begin 1", "headers 1 end"}));
  const auto& h = rec_.headers[1];
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{":method", "GET"}));
  EXPECT_EQ(h[3], (std::pair<std::string, std::string>{":authority", "example.test"}));
  EXPECT_EQ(session_->open_streams(), 1u);
}

TEST_F(SessionTest, BadPrefaceIsAConnectionError) {
  EXPECT_FALSE(session_->receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto frames = drain();
  auto goaway = find(frames, GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_EQ(goaway->error_code(), PROTOCOL_ERROR);
}

TEST_F(SessionTest, SettingsWithBadLengthIsFrameSizeError) {
  session_->receive(std::string(preface) + frame(SETTINGS, 0, 0, "12345"));
  auto goaway = find(drain(), GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_EQ(goaway->error_code(), FRAME_SIZE_ERROR);
}

TEST_F(SessionTest, PingWithBadLengthIsFrameSizeError) {
  session_->receive(client_start() + frame(PING, 0, 0, "1234"));
  auto goaway = find(drain(), GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_EQ(goaway->error_code(), FRAME_SIZE_ERROR);
}

TEST_F(SessionTest, DataOnIdleStreamIsProtocolError) {
  session_->receive(client_start() + frame(DATA, 0, 1, "abc"));
  auto goaway = find(drain(), GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_EQ(goaway->error_code(), PROTOCOL_ERROR);
  EXPECT_TRUE(rec_.events.empty());
}

TEST_F(SessionTest, EvenStreamIdFromClientIsProtocolError) {
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 2, request_block()));
  auto goaway = find(drain(), GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_EQ(goaway->error_code(), PROTOCOL_ERROR);
}

TEST_F(SessionTest, DataAfterEndStreamIsAStreamError) {
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block()));
  drain();
  session_->receive(frame(DATA, 0, 1, "late"));
  const auto frames = drain();
  auto rst = find(frames, RST_STREAM);
  auto goaway = find(frames, GOAWAY);
  ASSERT_TRUE(rst || goaway);
  EXPECT_TRUE(rec_.data[1].empty());
}

TEST_F(SessionTest, InvalidHpackIsCompressionError) {
  // Indexed field 0 does not exist (RFC 7541 6.1).
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, std::string(1, '\x80')));
  auto goaway = find(drain(), GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_EQ(goaway->error_code(), COMPRESSION_ERROR);
}

TEST_F(SessionTest, MissingPseudoHeaderResetsTheStream) {
  const std::string block = literal(":method", "GET") + literal(":scheme", "http");  // no :path
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, block));
  auto rst = find(drain(), RST_STREAM);
  ASSERT_TRUE(rst.has_value());
  EXPECT_EQ(rst->error_code(), PROTOCOL_ERROR);
}

TEST_F(SessionTest, DataBeyondTheStreamWindowIsFlowControlError) {
  settings_.h2_stream_window = 1024;
  make();
  std::string start = client_start() + frame(SETTINGS, ACK, 0, {});
  session_->receive(start + frame(HEADERS, END_HEADERS, 1, request_block("POST")));
  drain();
  session_->receive(frame(DATA, 0, 1, std::string(2000, 'x')));
  const auto frames = drain();
  auto rst = find(frames, RST_STREAM);
  auto goaway = find(frames, GOAWAY);
  ASSERT_TRUE(rst || goaway);
  EXPECT_EQ(rst ? rst->error_code() : goaway->error_code(), FLOW_CONTROL_ERROR);
}

TEST_F(SessionTest, WindowReopensOnlyForConsumedBytes) {
  settings_.h2_stream_window = 16384;
  settings_.h2_connection_window = 65535;
  make();
  session_->receive(client_start() + frame(SETTINGS, ACK, 0, {}) +
                    frame(HEADERS, END_HEADERS, 1, request_block("POST")));
  drain();
  session_->receive(frame(DATA, 0, 1, std::string(12000, 'x')));
  EXPECT_EQ(rec_.data[1].size(), 12000u);
  EXPECT_FALSE(find(drain(), WINDOW_UPDATE).has_value()) << "no window before the app takes the bytes";
  session_->consume(1, 12000);
  const auto frames = drain();
  bool stream_update = false;
  for (const auto& f : frames) stream_update |= f.type == WINDOW_UPDATE && f.stream == 1;
  EXPECT_TRUE(stream_update);
}

TEST_F(SessionTest, ResponseWithBodyAndTrailers) {
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block()));
  drain();
  rec_.trailers = true;
  const workers::HeaderView h[] = {{"content-type", "text/plain"}, {"connection", "close"}};
  ASSERT_TRUE(session_->submit_response(1, 200, h, true));
  const auto frames = drain();
  std::vector<std::uint8_t> types;
  for (const auto& f : frames) types.push_back(f.type);
  ASSERT_EQ(types, (std::vector<std::uint8_t>{HEADERS, DATA, HEADERS}));
  EXPECT_FALSE(frames[1].flags & END_STREAM);
  EXPECT_EQ(frames[1].payload, "hello");
  EXPECT_TRUE(frames[2].flags & END_STREAM);
  EXPECT_NE(std::find(rec_.events.begin(), rec_.events.end(), "complete 1"), rec_.events.end());
  EXPECT_EQ(rec_.closed.count(1), 1u);
}

TEST_F(SessionTest, DeferredBodyResumes) {
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block()));
  drain();
  rec_.body.clear();
  rec_.body_done = false;
  ASSERT_TRUE(session_->submit_response(1, 200, {}, true));
  auto frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, HEADERS);
  rec_.body = "late";
  rec_.body_done = true;
  session_->resume_body(1);
  frames = drain();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, DATA);
  EXPECT_EQ(frames[0].payload, "late");
  EXPECT_TRUE(frames[0].flags & END_STREAM);
}

TEST_F(SessionTest, ClientResetClosesOnlyThatStream) {
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block()) +
                    frame(HEADERS, END_HEADERS | END_STREAM, 3, request_block()));
  session_->receive(frame(RST_STREAM, 0, 1, u32(8)));  // CANCEL
  EXPECT_EQ(rec_.closed.at(1), 8u);
  EXPECT_EQ(rec_.closed.count(3), 0u);
  EXPECT_EQ(session_->open_streams(), 1u);
  EXPECT_FALSE(find(drain(), GOAWAY).has_value());
}

TEST_F(SessionTest, RapidResetEndsTheConnection) {
  settings_.h2_reset_burst = 5;
  settings_.h2_resets_per_second = 1;
  make();
  std::string bytes = client_start();
  for (std::uint32_t id = 1; id < 200; id += 2)
    bytes += frame(HEADERS, END_HEADERS | END_STREAM, id, request_block()) + frame(RST_STREAM, 0, id, u32(8));
  session_->receive(bytes);
  auto goaway = find(drain(), GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_NE(goaway->error_code(), 0u);  // nghttp2 says INTERNAL_ERROR
}

TEST_F(SessionTest, ContinuationFloodEndsTheConnection) {
  settings_.h2_max_continuations = 4;
  make();
  std::string bytes = client_start() + frame(HEADERS, 0, 1, literal(":method", "GET"));
  for (int i = 0; i < 20; ++i) bytes += frame(CONTINUATION, 0, 1, literal("x-a", "b"));
  EXPECT_FALSE(session_->receive(bytes));
  EXPECT_TRUE(find(drain(), GOAWAY).has_value());
}

TEST_F(SessionTest, TooManySettingsEntriesEndTheConnection) {
  settings_.h2_max_settings = 4;
  make();
  std::string payload;
  for (int i = 0; i < 10; ++i) payload += std::string("\x00\x03", 2) + u32(100);
  session_->receive(std::string(preface) + frame(SETTINGS, 0, 0, payload));
  EXPECT_TRUE(find(drain(), GOAWAY).has_value());
}

TEST_F(SessionTest, PingFloodWithoutReadingEndsTheConnection) {
  settings_.h2_max_queued_acks = 10;
  make();
  std::string bytes = client_start();
  for (int i = 0; i < 50; ++i) bytes += frame(PING, 0, 0, "12345678");
  EXPECT_FALSE(session_->receive(bytes));
  auto goaway = find(drain(), GOAWAY);
  ASSERT_TRUE(goaway.has_value());
}

TEST_F(SessionTest, GoawayNamesTheLastStreamAndLetsItFinish) {
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block()));
  drain();
  session_->goaway();
  auto frames = drain();
  auto goaway = find(frames, GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_EQ(goaway->error_code(), 0u);
  EXPECT_EQ(u32(1), goaway->payload.substr(0, 4));
  EXPECT_TRUE(session_->wants_write() || session_->wants_read());
  ASSERT_TRUE(session_->submit_response(1, 204, {}, false));
  drain();
  EXPECT_FALSE(session_->wants_read() && session_->wants_write());
}

TEST_F(SessionTest, SettingsAdvertiseExtendedConnect) {
  Session s(rec_, settings_);
  s.start();
  std::string out;
  ASSERT_TRUE(s.produce(out, 1 << 20));
  const auto settings = find(parse(out), SETTINGS);
  ASSERT_TRUE(settings.has_value());
  // RFC 8441: SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8) = 1.
  EXPECT_NE(settings->payload.find(std::string("\x00\x08", 2) + u32(1)), std::string::npos);
}

TEST_F(SessionTest, ExtendedConnectReportsProtocol) {
  const std::string block = literal(":method", "CONNECT") + literal(":protocol", "websocket") +
                            literal(":scheme", "http") + literal(":path", "/chat") +
                            literal(":authority", "example.test") + literal("sec-websocket-version", "13");
  ASSERT_TRUE(session_->receive(client_start() + frame(SETTINGS, 1, 0, {}) + frame(HEADERS, END_HEADERS, 1, block)));
  EXPECT_EQ(rec_.events, (std::vector<std::string>{"begin 1", "headers 1"}));
  EXPECT_EQ(rec_.headers[1][1], (std::pair<std::string, std::string>{":protocol", "websocket"}));
}

TEST_F(SessionTest, LowerStreamIdThanBeforeIsProtocolError) {
  session_->receive(client_start() + frame(HEADERS, END_HEADERS | END_STREAM, 5, request_block()));
  drain();
  EXPECT_FALSE(session_->receive(frame(HEADERS, END_HEADERS | END_STREAM, 3, request_block())));
  auto goaway = find(drain(), GOAWAY);
  ASSERT_TRUE(goaway.has_value());
  EXPECT_EQ(goaway->error_code(), PROTOCOL_ERROR);
}

TEST_F(SessionTest, TrailersOnARecentlyClosedStreamAreIgnored) {
  session_->receive(client_start() + frame(HEADERS, END_HEADERS, 1, request_block("POST")));
  session_->reset_stream(1, 0);
  drain();
  ASSERT_EQ(rec_.closed.count(1), 1u);
  EXPECT_TRUE(session_->receive(frame(HEADERS, END_HEADERS | END_STREAM, 1, literal("x-trailer", "late"))));
  EXPECT_FALSE(find(drain(), GOAWAY).has_value());
}

}  // namespace
}  // namespace pagi::gateway::http2
