// One well-formed example of every Envelope member, for round-trip tests and
// for the worker-frame fuzz corpus generator (tests/fuzz). Header-only so
// both can include it without another library.
#pragma once

#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <capnp/message.h>

#include "protocol/frame_codec.hpp"
#include "protocol/pagi.capnp.h"

namespace pagi::test {

struct SampleMessage {
  std::string name;
  bool from_worker;  // a message a worker may send (validation accepts it)
  std::function<void(wire::Envelope::Builder)> build;
};

inline void set_headers(capnp::List<capnp::Data>::Builder list,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> headers) {
  unsigned i = 0;
  for (auto [name, value] : headers) {
    list.set(i++, capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(name.data()), name.size()));
    list.set(i++, capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(value.data()), value.size()));
  }
}

inline capnp::Data::Reader bytes_of(std::string_view s) {
  return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()};
}

inline capnp::Text::Reader text_of(std::string_view s) { return {s.data(), s.size()}; }

// Encodes one sample as a single-segment frame.
inline std::string encode(const SampleMessage& sample) {
  capnp::MallocMessageBuilder message;
  sample.build(message.initRoot<wire::Envelope>());
  std::string out;
  protocol::append_frame(message, out);
  return out;
}

inline std::vector<SampleMessage> sample_messages() {
  using E = wire::Envelope::Builder;
  std::vector<SampleMessage> s;
  auto add = [&](std::string name, bool from_worker, std::function<void(E)> build) {
    s.push_back({std::move(name), from_worker, std::move(build)});
  };

  // --- control -------------------------------------------------------------
  add("hello", true, [](E e) {
    auto h = e.initHello();
    h.setProtocolVersion(wire::PROTOCOL_VERSION);
    h.setPid(4242);
    h.setConcurrency(8);
    h.setScopeTypes(wire::SCOPE_BIT_HTTP | wire::SCOPE_BIT_WEBSOCKET | wire::SCOPE_BIT_SSE);
    h.setSdkName("pagi-worker-perl");
    h.setSdkVersion("0.1.0");
    h.setPool("default");
    h.setApp("app.pl");
  });
  add("welcome", false, [](E e) {
    auto w = e.initWelcome();
    w.setProtocolVersion(wire::PROTOCOL_VERSION);
    w.setWorkerId(3);
    w.setSendWindow(262144);
    w.setReceiveWindow(65536);
    w.setHeartbeatIntervalMs(5000);
    w.setLifespan(wire::LifespanMode::AUTO);
    w.setMaxMessageBytes(16 << 20);
    w.setPool("default");
  });
  add("open_http", false, [](E e) {
    e.setScope(7);
    auto o = e.initOpen();
    o.setType(wire::ScopeType::HTTP);
    o.setClientPort(51234);
    o.setServerPort(8080);
    o.setHasBody(true);
    o.setMore(false);
    o.setExtensions(wire::EXT_FULLFLUSH | wire::EXT_TLS);
    o.setHttpVersion("1.1");
    o.setMethod("POST");
    o.setScheme("https");
    o.setPath("/caf\xc3\xa9/x");
    o.setRawPath(bytes_of("/caf%C3%A9/x"));
    o.setQueryString(bytes_of("a=1&b=2"));
    o.setRootPath("");
    set_headers(o.initHeaders(4), {{"host", "example.com"}, {"content-type", "text/plain"}});
    o.setClientHost("127.0.0.1");
    o.setServerHost("127.0.0.1");
    o.setBody(bytes_of("hello"));
    auto tls = o.initTls();
    tls.setTlsVersion(0x0304);
    tls.setCipherSuite(0x1301);
    tls.setServerCert("-----BEGIN CERTIFICATE-----\n...");
    auto params = o.initRouteParams(2);
    params.set(0, "id");
    params.set(1, "42");
    o.setRequestId("req-1");
    o.setPeerHost("192.0.2.1");
    o.setPeerPort(4711);
  });
  add("open_websocket", false, [](E e) {
    e.setScope(8);
    auto o = e.initOpen();
    o.setType(wire::ScopeType::WEBSOCKET);
    o.setHttpVersion("1.1");
    o.setMethod("GET");
    o.setScheme("ws");
    o.setPath("/chat");
    auto sub = o.initSubprotocols(2);
    sub.set(0, "chat");
    sub.set(1, "superchat");
  });
  add("open_lifespan", false, [](E e) {
    e.setScope(1);
    e.initOpen().setType(wire::ScopeType::LIFESPAN);
  });
  add("credit", true, [](E e) {
    e.setScope(7);
    e.initCredit().setBytes(65536);
  });
  add("heartbeat", true, [](E e) { e.initHeartbeat().setSeq(99); });
  add("drain", false, [](E e) { e.initDrain().setTimeoutMs(30000); });
  add("shutdown", false, [](E e) { e.setShutdown(); });
  add("scope_end", true, [](E e) {
    e.setScope(7);
    auto end = e.initScopeEnd();
    end.setFailed(true);
    end.setMessage("died at app.pl line 3.");
  });
  add("response_done", false, [](E e) {
    e.setScope(7);
    e.setResponseDone();
  });

  // --- receive events --------------------------------------------------------
  add("http_request", false, [](E e) {
    e.setScope(7);
    auto b = e.initHttpRequest();
    b.setBody(bytes_of("chunk"));
    b.setMore(true);
  });
  add("http_disconnect", false, [](E e) {
    e.setScope(7);
    e.initHttpDisconnect().setReason("client_closed");
  });
  add("websocket_connect", false, [](E e) {
    e.setScope(8);
    e.setWebsocketConnect();
  });
  add("websocket_receive", false, [](E e) {
    e.setScope(8);
    auto m = e.initWebsocketReceive();
    m.setIsText(true);
    m.setText("hi");
  });
  add("websocket_disconnect", false, [](E e) {
    e.setScope(8);
    auto c = e.initWebsocketDisconnect();
    c.setCode(1001);
    c.setReason("going away");
  });
  add("sse_request", false, [](E e) {
    e.setScope(9);
    e.initSseRequest().setMore(false);
  });
  add("sse_disconnect", false, [](E e) {
    e.setScope(9);
    e.initSseDisconnect().setReason("client_closed");
  });
  add("lifespan_startup", false, [](E e) {
    e.setScope(1);
    e.setLifespanStartup();
  });
  add("lifespan_shutdown", false, [](E e) {
    e.setScope(1);
    e.setLifespanShutdown();
  });

  // --- send events -------------------------------------------------------------
  add("http_response_start", true, [](E e) {
    e.setScope(7);
    auto r = e.initHttpResponseStart();
    r.setStatus(200);
    r.setTrailers(true);
    set_headers(
        r.initHeaders(6),
        {{"content-type", "text/plain; charset=utf-8"}, {"Set-Cookie", "a=b;\tPath=/"}, {"x-latin1", "caf\xe9"}});
  });
  add("http_response_body", true, [](E e) {
    e.setScope(7);
    auto b = e.initHttpResponseBody();
    b.setBody(bytes_of("Hello, world!\n"));
    b.setMore(true);
  });
  add("http_response_body_file", true, [](E e) {
    e.setScope(7);
    auto b = e.initHttpResponseBody();
    b.setFile("/var/www/static/logo.png");
    b.setOffset(100);
    b.setLength(-1);
  });
  add("http_response_trailers", true, [](E e) {
    e.setScope(7);
    set_headers(e.initHttpResponseTrailers().initHeaders(2), {{"x-checksum", "abc"}});
  });
  add("http_fullflush", true, [](E e) {
    e.setScope(7);
    e.setHttpFullflush();
  });
  add("http_response_early_hint", true, [](E e) {
    e.setScope(7);
    set_headers(e.initHttpResponseEarlyHint().initHeaders(2), {{"link", "</style.css>; rel=preload; as=style"}});
  });
  add("websocket_accept", true, [](E e) {
    e.setScope(8);
    auto a = e.initWebsocketAccept();
    a.setHasSubprotocol(true);
    a.setSubprotocol("chat");
    set_headers(a.initHeaders(2), {{"x-server", "pagi"}});
  });
  add("websocket_send_text", true, [](E e) {
    e.setScope(8);
    auto m = e.initWebsocketSend();
    m.setIsText(true);
    m.setText("h\xc3\xa9llo \xf0\x9f\x98\x80");
  });
  add("websocket_send_bytes", true, [](E e) {
    e.setScope(8);
    e.initWebsocketSend().setBytes(bytes_of(std::string_view("\x00\xff\x80", 3)));
  });
  add("websocket_close", true, [](E e) {
    e.setScope(8);
    auto c = e.initWebsocketClose();
    c.setCode(1000);
    c.setReason("bye");
  });
  add("websocket_keepalive", true, [](E e) {
    e.setScope(8);
    auto k = e.initWebsocketKeepalive();
    k.setIntervalMs(30000);
    k.setTimeoutMs(20000);
  });
  add("websocket_http_response_start", true, [](E e) {
    e.setScope(8);
    auto r = e.initWebsocketHttpResponseStart();
    r.setStatus(403);
    set_headers(r.initHeaders(2), {{"content-type", "text/plain"}});
  });
  add("websocket_http_response_body", true, [](E e) {
    e.setScope(8);
    e.initWebsocketHttpResponseBody().setBody(bytes_of("Forbidden"));
  });
  add("sse_start", true, [](E e) {
    e.setScope(9);
    auto r = e.initSseStart();
    r.setStatus(200);
    set_headers(r.initHeaders(2), {{"content-type", "text/event-stream"}});
  });
  add("sse_send", true, [](E e) {
    e.setScope(9);
    auto s = e.initSseSend();
    s.setRetry(3000);
    s.setHasEvent(true);
    s.setHasId(true);
    s.setData("line one\nline two");
    s.setEvent("update");
    s.setId("42");
  });
  add("sse_send_data_only", true, [](E e) {
    e.setScope(9);
    auto s = e.initSseSend();
    s.setRetry(-1);
    s.setData("tick");
  });
  add("sse_comment", true, [](E e) {
    e.setScope(9);
    e.setSseComment(":keepalive");
  });
  add("sse_keepalive", true, [](E e) {
    e.setScope(9);
    auto k = e.initSseKeepalive();
    k.setIntervalMs(15000);
    k.setComment("ping");
  });
  add("sse_close", true, [](E e) {
    e.setScope(9);
    e.setSseClose("job_complete");
  });
  add("sse_http_response_start", true, [](E e) {
    e.setScope(9);
    auto r = e.initSseHttpResponseStart();
    r.setStatus(401);
    set_headers(r.initHeaders(2), {{"www-authenticate", "Bearer"}});
  });
  add("sse_http_response_body", true, [](E e) {
    e.setScope(9);
    e.initSseHttpResponseBody().setBody(bytes_of("Unauthorized"));
  });
  add("lifespan_startup_complete", true, [](E e) {
    e.setScope(1);
    e.setLifespanStartupComplete();
  });
  add("lifespan_startup_failed", true, [](E e) {
    e.setScope(1);
    e.setLifespanStartupFailed("database unreachable");
  });
  add("lifespan_shutdown_complete", true, [](E e) {
    e.setScope(1);
    e.setLifespanShutdownComplete();
  });
  add("lifespan_shutdown_failed", true, [](E e) {
    e.setScope(1);
    e.setLifespanShutdownFailed("flush failed");
  });
  add("lifespan_unsupported", true, [](E e) {
    e.setScope(1);
    e.setLifespanUnsupported("unsupported scope type lifespan");
  });
  return s;
}

}  // namespace pagi::test
