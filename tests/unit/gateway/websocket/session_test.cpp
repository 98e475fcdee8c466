// The WebSocket session over real sockets: the HTTP/1 connection sees the
// upgrade and hands the socket over; the fake pool plays the app.
#include "gateway/websocket/session.hpp"

#include <gtest/gtest.h>

#include "gateway/websocket/frame_codec.hpp"
#include "tests/unit/gateway/http1/http1_test_support.hpp"
#include "tests/unit/gateway/websocket/client_frames.hpp"

namespace pagi::testing {
namespace {

constexpr std::string_view kUpgrade =
    "GET /chat?room=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n";

struct ServerFrame {
  std::uint8_t opcode;
  std::string payload;
  std::uint16_t code() const {
    return payload.size() >= 2 ? static_cast<std::uint16_t>((std::uint8_t(payload[0]) << 8) | std::uint8_t(payload[1]))
                               : 0;
  }
};

// Server frames after the 101 head (unmasked, as RFC 6455 requires).
std::vector<ServerFrame> server_frames(const std::string& received) {
  std::vector<ServerFrame> out;
  const auto head_end = received.find("\r\n\r\n");
  if (head_end == std::string::npos) return out;
  std::string_view d(received);
  d.remove_prefix(head_end + 4);
  while (d.size() >= 2) {
    const std::uint8_t op = std::uint8_t(d[0]) & 0x0F;
    if (std::uint8_t(d[1]) & 0x80) ADD_FAILURE() << "masked server frame";
    std::uint64_t len = std::uint8_t(d[1]) & 0x7F;
    std::size_t hdr = 2;
    if (len == 126) {
      if (d.size() < 4) break;
      len = (std::uint8_t(d[2]) << 8) | std::uint8_t(d[3]);
      hdr = 4;
    } else if (len == 127) {
      if (d.size() < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | std::uint8_t(d[2 + i]);
      hdr = 10;
    }
    if (d.size() < hdr + len) break;
    out.push_back({op, std::string(d.substr(hdr, len))});
    d.remove_prefix(hdr + len);
  }
  return out;
}

class WsSession : public ::testing::Test {
 protected:
  // Connects, upgrades, lets the app accept.
  void open(std::string_view subprotocol = "chat") {
    client = h.connect_tcp();
    client->send(kUpgrade);
    ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
    h.scope().ws_accept(subprotocol, {{"x-extra", "1"}});
    ASSERT_TRUE(h.run_until([&] {
      client->pump();
      return client->received.find("\r\n\r\n") != std::string::npos;
    }));
  }
  bool wait_frames(std::size_t n) {
    return h.run_until([&] {
      client->pump();
      return server_frames(client->received).size() >= n;
    });
  }
  bool wait_disconnect() {
    return h.run_until([&] { return !h.scope().ws_disconnects.empty(); });
  }

  Http1Harness h;
  std::unique_ptr<RawClient> client;
};

TEST_F(WsSession, HandshakeScopeAndAccept) {
  h.opener.initial_window = 1024;
  open();
  const auto& r = h.scope().request;
  EXPECT_EQ(r.type, wire::ScopeType::WEBSOCKET);
  EXPECT_EQ(r.scheme, "ws");
  EXPECT_EQ(r.path, "/chat");
  EXPECT_EQ(r.query_string, "room=1");
  EXPECT_EQ(r.subprotocols, (std::vector<std::string>{"chat", "superchat"}));
  EXPECT_TRUE(r.extensions & wire::EXT_WEBSOCKET_HTTP_RESPONSE);
  EXPECT_TRUE(r.header("sec-websocket-key").has_value());
  EXPECT_EQ(client->received.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  EXPECT_NE(client->received.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  EXPECT_NE(client->received.find("Sec-WebSocket-Protocol: chat\r\n"), std::string::npos);
  EXPECT_NE(client->received.find("x-extra: 1\r\n"), std::string::npos);
}

TEST_F(WsSession, MessagesBothWaysWithCredit) {
  h.opener.initial_window = 1024;
  open();
  client->send(frame(0x1, "hello") + frame(0x2, "\x01\x02", false) + frame(0x0, "\x03"));
  ASSERT_TRUE(h.run_until([&] { return h.scope().messages.size() == 2; }));
  EXPECT_EQ(h.scope().messages[0], (std::pair<bool, std::string>{true, "hello"}));
  EXPECT_EQ(h.scope().messages[1], (std::pair<bool, std::string>{false, "\x01\x02\x03"}));
  h.scope().ws_send(true, "hi there");
  h.scope().ws_send(false, std::string(300, 'b'));
  ASSERT_TRUE(wait_frames(2));
  const auto f = server_frames(client->received);
  EXPECT_EQ(f[0].opcode, 0x1);
  EXPECT_EQ(f[0].payload, "hi there");
  EXPECT_EQ(f[1].opcode, 0x2);
  EXPECT_EQ(f[1].payload.size(), 300u);
  ASSERT_TRUE(h.run_until([&] { return h.scope().written == 308; }));  // payload bytes, as credit
}

TEST_F(WsSession, MessagesWaitForCreditInOrder) {
  h.opener.initial_window = 0;
  open();
  client->send(frame(0x1, "one") + frame(0x1, "two"));
  h.settle();
  h.run_until([] { return false; }, std::chrono::milliseconds(20));
  EXPECT_TRUE(h.scope().messages.empty());
  h.scope().grant(3);
  ASSERT_TRUE(h.run_until([&] { return h.scope().messages.size() == 1; }));
  h.scope().grant(100);
  ASSERT_TRUE(h.run_until([&] { return h.scope().messages.size() == 2; }));
  EXPECT_EQ(h.scope().messages[1].second, "two");
}

TEST_F(WsSession, QueueOverflowCloses1008) {
  h.settings.ws_max_queue = 2;
  h.opener.initial_window = 0;
  open();
  client->send(frame(0x1, "1") + frame(0x1, "2") + frame(0x1, "3"));
  ASSERT_TRUE(wait_disconnect());
  EXPECT_EQ(h.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{1008, "queue_overflow"}));
  ASSERT_TRUE(wait_frames(1));
  EXPECT_EQ(server_frames(client->received)[0].opcode, 0x8);
  EXPECT_EQ(server_frames(client->received)[0].code(), 1008);
}

TEST_F(WsSession, PingAnsweredWithPong) {
  open();
  client->send(frame(0x9, "are you there"));
  ASSERT_TRUE(wait_frames(1));
  const auto f = server_frames(client->received);
  EXPECT_EQ(f[0].opcode, 0xA);
  EXPECT_EQ(f[0].payload, "are you there");
}

TEST_F(WsSession, PeerCloseEchoedAndReported) {
  open();
  client->send(frame(0x8, close_payload(1001, "bye")));
  ASSERT_TRUE(wait_disconnect());
  EXPECT_EQ(h.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{1001, "bye"}));
  ASSERT_TRUE(wait_frames(1));
  EXPECT_EQ(server_frames(client->received)[0].code(), 1001);
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return client->eof();
  }));
  client->close();
  ASSERT_TRUE(h.run_until([&] { return h.closed == 1; }));
  EXPECT_EQ(h.scope().ws_disconnects.size(), 1u);
}

TEST_F(WsSession, PeerCloseWithoutStatusIs1005) {
  open();
  client->send(frame(0x8, ""));
  ASSERT_TRUE(wait_disconnect());
  EXPECT_EQ(h.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{1005, ""}));
  ASSERT_TRUE(wait_frames(1));
  EXPECT_EQ(server_frames(client->received)[0].payload, "");
}

TEST_F(WsSession, ProtocolErrorsClose) {
  struct Case {
    std::string bytes;
    std::uint16_t code;
  };
  ClientFrame unmasked;
  unmasked.masked = false;
  unmasked.payload = "x";
  ClientFrame rsv;
  rsv.rsv = 0x40;
  const std::vector<Case> cases{{encode(unmasked), 1002},
                                {encode(rsv), 1002},
                                {frame(0x5, ""), 1002},
                                {frame(0x1, "\xff\xfe"), 1007},
                                {frame(0x8, close_payload(999)), 1002}};
  for (const auto& c : cases) {
    Http1Harness hh;
    hh.settings.max_ws_frame_size = 1000;
    auto cl = hh.connect_tcp();
    cl->send(kUpgrade);
    ASSERT_TRUE(hh.run_until([&] { return hh.opener.scopes.size() == 1; }));
    hh.scope().ws_accept();
    cl->send(c.bytes);
    ASSERT_TRUE(hh.run_until([&] { return !hh.scope().ws_disconnects.empty(); }));
    EXPECT_EQ(hh.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{c.code, "protocol_error"}));
    ASSERT_TRUE(hh.run_until([&] {
      cl->pump();
      return !server_frames(cl->received).empty();
    }));
    EXPECT_EQ(server_frames(cl->received)[0].code(), c.code);
    ASSERT_TRUE(hh.run_until([&] {
      cl->pump();
      return cl->eof();
    }));  // the gateway closes
  }
}

TEST_F(WsSession, TooBigMessageIs1009) {
  h.settings.max_ws_message_size = 10;
  open();
  client->send(frame(0x2, std::string(11, 'x')));
  ASSERT_TRUE(wait_disconnect());
  EXPECT_EQ(h.scope().ws_disconnects[0].first, 1009);
  ASSERT_TRUE(wait_frames(1));
  EXPECT_EQ(server_frames(client->received)[0].code(), 1009);
}

TEST_F(WsSession, DropWithoutCloseIs1006ClientClosed) {
  open();
  client->close();
  ASSERT_TRUE(wait_disconnect());
  EXPECT_EQ(h.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{1006, "client_closed"}));
  ASSERT_TRUE(h.run_until([&] { return h.closed == 1; }));
}

TEST_F(WsSession, AppCloseRunsTheCloseHandshake) {
  open();
  h.scope().ws_close(4000, "done");
  ASSERT_TRUE(wait_frames(1));
  const auto f = server_frames(client->received);
  EXPECT_EQ(f[0].code(), 4000);
  EXPECT_EQ(f[0].payload.substr(2), "done");
  h.scope().ws_send(true, "ignored after close");
  client->send(frame(0x8, close_payload(4000)));
  ASSERT_TRUE(wait_disconnect());
  EXPECT_EQ(h.scope().ws_disconnects[0].first, 4000);
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return client->eof();
  }));
  EXPECT_EQ(server_frames(client->received).size(), 1u);
}

TEST_F(WsSession, AppDoneClosesNormally) {
  open();
  h.scope().app_done(false);
  ASSERT_TRUE(wait_frames(1));
  EXPECT_EQ(server_frames(client->received)[0].code(), 1000);
}

TEST_F(WsSession, KeepaliveTimeout) {
  open();
  h.scope().ws_keepalive(10, 20);
  ASSERT_TRUE(wait_frames(1));
  EXPECT_EQ(server_frames(client->received)[0].opcode, 0x9);
  ASSERT_TRUE(wait_disconnect());  // no pong from this client
  EXPECT_EQ(h.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{1006, "keepalive_timeout"}));
}

TEST_F(WsSession, KeepalivePongKeepsItOpen) {
  open();
  h.scope().ws_keepalive(10, 50);
  for (std::size_t i = 1; i <= 4; ++i) {
    ASSERT_TRUE(wait_frames(i));
    client->send(frame(0xA, ""));
  }
  EXPECT_TRUE(h.scope().ws_disconnects.empty());
}

TEST_F(WsSession, IdleTimeoutClosesGoingAway) {
  h.settings.ws_idle_timeout = gateway::Seconds(0.02);
  open();
  ASSERT_TRUE(wait_disconnect());
  EXPECT_EQ(h.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{1006, "idle_timeout"}));
  ASSERT_TRUE(wait_frames(1));
  EXPECT_EQ(server_frames(client->received)[0].code(), 1001);
}

TEST_F(WsSession, GracefulShutdownSends1001AndReload1012) {
  open();
  for (auto& w : h.connections)
    if (auto c = w.lock()) c->shutdown_gracefully();
  ASSERT_TRUE(wait_disconnect());
  EXPECT_EQ(h.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{1006, "server_shutdown"}));
  ASSERT_TRUE(wait_frames(1));
  EXPECT_EQ(server_frames(client->received)[0].code(), 1001);

  Http1Harness h2;
  auto c2 = h2.connect_tcp();
  c2->send(kUpgrade);
  ASSERT_TRUE(h2.run_until([&] { return h2.opener.scopes.size() == 1; }));
  h2.scope().ws_accept();
  h2.scope().server_close(true);
  ASSERT_TRUE(h2.run_until([&] {
    c2->pump();
    return !server_frames(c2->received).empty();
  }));
  EXPECT_EQ(server_frames(c2->received)[0].code(), 1012);
}

TEST_F(WsSession, CloseBeforeAcceptIs403) {
  client = h.connect_tcp();
  client->send(kUpgrade);
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().ws_close(1000);
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return client->eof();
  }));
  const auto r = parse_responses(client->received);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 403u);
  ASSERT_TRUE(h.run_until([&] { return h.scope().done_calls == 1; }));
  EXPECT_TRUE(h.scope().ws_disconnects.empty());
}

TEST_F(WsSession, DenialResponse) {
  client = h.connect_tcp();
  client->send(kUpgrade);
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().start(401, {{"www-authenticate", "Bearer"}, {"content-type", "application/json"}});
  h.scope().send("{\"error\":", true);
  h.scope().send("\"unauthorized\"}", false);
  h.scope().ws_accept();  // too late: ignored
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return client->eof();
  }));
  const auto r = parse_responses(client->received);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 401u);
  EXPECT_EQ(r[0].body, "{\"error\":\"unauthorized\"}");
  EXPECT_EQ(r[0].headers["www-authenticate"], "Bearer");
  EXPECT_EQ(h.scope().written, r[0].body.size());
}

TEST_F(WsSession, AppGoneBeforeAnswerIs403AndClientDropIsReported) {
  client = h.connect_tcp();
  client->send(kUpgrade);
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  h.scope().app_done(false);
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return client->eof();
  }));
  EXPECT_EQ(parse_responses(client->received)[0].status, 403u);

  Http1Harness h2;
  auto c2 = h2.connect_tcp();
  c2->send(kUpgrade);
  ASSERT_TRUE(h2.run_until([&] { return h2.opener.scopes.size() == 1; }));
  c2->close();
  ASSERT_TRUE(h2.run_until([&] { return !h2.scope().ws_disconnects.empty(); }));
  EXPECT_EQ(h2.scope().ws_disconnects[0], (std::pair<std::uint16_t, std::string>{1006, "client_closed"}));
}

TEST_F(WsSession, PoolWithoutWebsocketGetsPlainHttp) {
  h.opener.websocket_supported = false;
  client = h.connect_tcp();
  client->send(kUpgrade);
  ASSERT_TRUE(h.run_until([&] { return h.opener.scopes.size() == 1; }));
  EXPECT_EQ(h.scope().request.type, wire::ScopeType::HTTP);
  h.scope().respond(200, "no ws here", {{"content-length", "10"}});
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return parse_responses(client->received).size() == 1;
  }));
}

TEST_F(WsSession, BrokenUpgrades) {
  client = h.connect_tcp();
  client->send(
      "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
      "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] {
    client->pump();
    return client->eof();
  }));
  auto r = parse_responses(client->received);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 426u);
  EXPECT_EQ(r[0].headers["sec-websocket-version"], "13");
  auto c2 = h.connect_tcp();
  c2->send("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] {
    c2->pump();
    return c2->eof();
  }));
  EXPECT_EQ(parse_responses(c2->received)[0].status, 400u);
  EXPECT_TRUE(h.opener.scopes.empty());
}

}  // namespace
}  // namespace pagi::testing
