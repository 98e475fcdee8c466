#include "protocol/event_validation.hpp"

#include <string>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include "tests/unit/protocol/sample_messages.hpp"

namespace pagi::protocol {
namespace {

using test::bytes_of;
using test::set_headers;
using test::text_of;
using E = wire::Envelope::Builder;

// Builds one message with `build` and validates it.
template <typename Build>
std::error_code check(Build build) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::Envelope>();
  build(root);
  return validate_worker_message(root.asReader());
}

TEST(EventValidation, AcceptsEveryWorkerSample) {
  for (const auto& sample : test::sample_messages()) {
    if (!sample.from_worker) continue;
    EXPECT_FALSE(check(sample.build)) << sample.name << ": " << check(sample.build).message();
  }
}

TEST(EventValidation, RejectsGatewayMessagesFromAWorker) {
  int gateway_kinds = 0;
  for (const auto& sample : test::sample_messages()) {
    if (sample.from_worker) continue;
    ++gateway_kinds;
    EXPECT_EQ(check(sample.build), EventError::wrong_direction) << sample.name;
  }
  EXPECT_EQ(gateway_kinds, 16);
}

TEST(EventValidation, DirectionTable) {
  EXPECT_TRUE(is_worker_message(wire::Envelope::HELLO));
  EXPECT_TRUE(is_worker_message(wire::Envelope::SCOPE_END));
  EXPECT_TRUE(is_worker_message(wire::Envelope::HTTP_RESPONSE_START));
  EXPECT_TRUE(is_worker_message(wire::Envelope::LIFESPAN_UNSUPPORTED));
  EXPECT_FALSE(is_worker_message(wire::Envelope::WELCOME));
  EXPECT_FALSE(is_worker_message(wire::Envelope::LIFESPAN_SHUTDOWN));
  EXPECT_FALSE(is_worker_message(static_cast<wire::Envelope::Which>(41)));
}

TEST(EventValidation, UnknownUnionTag) {
  capnp::MallocMessageBuilder message;
  message.initRoot<wire::Envelope>().initHeartbeat();
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  // Table (8) + root pointer (8) + scope (8): the tag is the next UInt16.
  bytes[24] = 99;
  capnp::FlatArrayMessageReader reader(words);
  EXPECT_EQ(validate_worker_message(reader.getRoot<wire::Envelope>()), EventError::unknown_event);
}

TEST(EventValidation, ScopeRules) {
  EXPECT_EQ(check([](E e) {
              e.setScope(3);
              e.initHello();
            }),
            EventError::bad_scope);
  EXPECT_EQ(check([](E e) {
              e.setScope(3);
              e.initHeartbeat();
            }),
            EventError::bad_scope);
  EXPECT_EQ(check([](E e) { e.initCredit(); }), EventError::bad_scope);
  EXPECT_EQ(check([](E e) { e.initScopeEnd(); }), EventError::bad_scope);
  EXPECT_EQ(check([](E e) { e.setLifespanStartupComplete(); }), EventError::bad_scope);
  EXPECT_EQ(check([](E e) { e.initHttpResponseStart().setStatus(200); }), EventError::bad_scope);
  EXPECT_FALSE(check([](E e) {
    e.setScope(3);
    e.initCredit();
  }));
}

TEST(EventValidation, StatusRangeForEveryStartEvent) {
  using Init = wire::ResponseStart::Builder (*)(E);
  const Init inits[] = {
      [](E e) { return e.initHttpResponseStart(); },
      [](E e) { return e.initWebsocketHttpResponseStart(); },
      [](E e) { return e.initSseStart(); },
      [](E e) { return e.initSseHttpResponseStart(); },
  };
  for (auto init : inits) {
    for (int status : {0, 100, 103, 199, 600, 999, 65535}) {
      EXPECT_EQ(check([&](E e) {
                  e.setScope(1);
                  init(e).setStatus(status);
                }),
                EventError::bad_status)
          << status;
    }
    for (int status : {200, 204, 404, 599}) {
      EXPECT_FALSE(check([&](E e) {
        e.setScope(1);
        init(e).setStatus(status);
      })) << status;
    }
  }
}

std::error_code with_header(std::string_view name, std::string_view value) {
  return check([&](E e) {
    e.setScope(1);
    auto r = e.initHttpResponseStart();
    r.setStatus(200);
    set_headers(r.initHeaders(2), {{name, value}});
  });
}

TEST(EventValidation, HeaderListMustBeEven) {
  EXPECT_EQ(check([](E e) {
              e.setScope(1);
              auto r = e.initHttpResponseStart();
              r.setStatus(200);
              r.initHeaders(3).set(0, bytes_of("x"));
            }),
            EventError::odd_header_list);
  EXPECT_EQ(check([](E e) {
              e.setScope(1);
              e.initHttpResponseTrailers().initHeaders(1);
            }),
            EventError::odd_header_list);
}

TEST(EventValidation, HeaderNames) {
  for (std::string_view good : {"x", "content-type", "Content-Type", "X-A_B.c~|`^'*+!#$%&", "0"}) {
    EXPECT_TRUE(valid_header_name(good)) << good;
    EXPECT_FALSE(with_header(good, "v")) << good;
  }
  for (std::string_view bad :
       {std::string_view(""), std::string_view("a b"), std::string_view("a:b"), std::string_view(":status"),
        std::string_view("a\r\nb"), std::string_view("a\0b", 3), std::string_view("caf\xc3\xa9"),
        std::string_view("a\tb"), std::string_view("(x)"), std::string_view("a\"b"), std::string_view("a\x7f")}) {
    EXPECT_FALSE(valid_header_name(bad)) << bad;
    EXPECT_EQ(with_header(bad, "v"), EventError::bad_header_name) << bad;
  }
}

TEST(EventValidation, HeaderValues) {
  for (std::string_view good :
       {std::string_view(""), std::string_view("text/html; q=1"), std::string_view("a\tb"),
        std::string_view(" padded "), std::string_view("caf\xe9"), std::string_view("\x80\xff")}) {
    EXPECT_TRUE(valid_header_value(good)) << good;
    EXPECT_FALSE(with_header("x", good)) << good;
  }
  for (std::string_view bad :
       {std::string_view("a\rb"), std::string_view("a\nb"), std::string_view("a\0b", 3), std::string_view("\x01"),
        std::string_view("a\x1f"), std::string_view("del\x7f"), std::string_view("x\r\nSet-Cookie: evil=1")}) {
    EXPECT_FALSE(valid_header_value(bad)) << bad;
    EXPECT_EQ(with_header("x", bad), EventError::bad_header_value) << bad;
  }
}

TEST(EventValidation, HeadersOfEveryHeaderCarryingEvent) {
  auto bad_value = [](capnp::List<capnp::Data>::Builder h) { set_headers(h, {{"x", "a\nb"}}); };
  EXPECT_EQ(check([&](E e) {
              e.setScope(1);
              bad_value(e.initHttpResponseTrailers().initHeaders(2));
            }),
            EventError::bad_header_value);
  EXPECT_EQ(check([&](E e) {
              e.setScope(1);
              bad_value(e.initHttpResponseEarlyHint().initHeaders(2));
            }),
            EventError::bad_header_value);
  EXPECT_EQ(check([&](E e) {
              e.setScope(1);
              bad_value(e.initWebsocketAccept().initHeaders(2));
            }),
            EventError::bad_header_value);
  EXPECT_EQ(check([&](E e) {
              e.setScope(1);
              auto r = e.initSseStart();
              r.setStatus(200);
              bad_value(r.initHeaders(2));
            }),
            EventError::bad_header_value);
}

std::error_code body_event(std::function<void(wire::ResponseBody::Builder)> fill) {
  return check([&](E e) {
    e.setScope(1);
    fill(e.initHttpResponseBody());
  });
}

TEST(EventValidation, ResponseBodyFile) {
  EXPECT_FALSE(body_event([](auto b) {
    b.setFile("/srv/a.txt");
    b.setLength(-1);
  }));
  EXPECT_FALSE(body_event([](auto b) {
    b.setFile("/srv/a.txt");
    b.setOffset(10);
    b.setLength(0);
  }));
  EXPECT_FALSE(body_event([](auto b) { b.setBody(bytes_of("x")); }));
  EXPECT_FALSE(body_event([](auto b) {}));
  EXPECT_EQ(body_event([](auto b) { b.setFile("srv/a.txt"); }), EventError::bad_file);
  EXPECT_EQ(body_event([](auto b) { b.setFile("./a.txt"); }), EventError::bad_file);
  EXPECT_EQ(body_event([](auto b) { b.setFile(text_of(std::string_view("/a\0b", 4))); }), EventError::bad_file);
  EXPECT_EQ(body_event([](auto b) {
              b.setFile("/a");
              b.setBody(bytes_of("x"));
            }),
            EventError::bad_file);
  EXPECT_EQ(body_event([](auto b) {
              b.setFile("/a");
              b.setLength(-2);
            }),
            EventError::bad_file);
  EXPECT_EQ(body_event([](auto b) {
              b.setFile("/a");
              b.setOffset(std::uint64_t(1) << 63);
            }),
            EventError::bad_file);
  EXPECT_EQ(body_event([](auto b) { b.setLength(-5); }), EventError::bad_file);
}

std::error_code ws_send(bool is_text, std::string_view text, std::string_view bytes) {
  return check([&](E e) {
    e.setScope(1);
    auto m = e.initWebsocketSend();
    m.setIsText(is_text);
    m.setText(text_of(text));
    m.setBytes(bytes_of(bytes));
  });
}

TEST(EventValidation, WebsocketSend) {
  EXPECT_FALSE(ws_send(true, "h\xc3\xa9", ""));
  EXPECT_FALSE(ws_send(true, "", ""));
  EXPECT_FALSE(ws_send(false, "", "\xff\xfe"));
  EXPECT_EQ(ws_send(true, "\xc3\x28", ""), EventError::bad_text);
  EXPECT_EQ(ws_send(true, "\xed\xa0\x80", ""), EventError::bad_text);  // surrogate
  EXPECT_EQ(ws_send(true, "x", "y"), EventError::bad_field);
  EXPECT_EQ(ws_send(false, "x", "y"), EventError::bad_field);
}

std::error_code ws_close(int code, std::string_view reason) {
  return check([&](E e) {
    e.setScope(1);
    auto c = e.initWebsocketClose();
    c.setCode(code);
    c.setReason(text_of(reason));
  });
}

TEST(EventValidation, WebsocketClose) {
  for (int code : {1000, 1001, 1003, 1007, 1011, 1014, 3000, 4000, 4999}) {
    EXPECT_FALSE(ws_close(code, "")) << code;
  }
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
    EXPECT_EQ(ws_close(code, ""), EventError::bad_field) << code;
  }
  EXPECT_FALSE(ws_close(1000, std::string(123, 'r')));
  EXPECT_EQ(ws_close(1000, std::string(124, 'r')), EventError::bad_field);
  EXPECT_EQ(ws_close(1000, "\xff"), EventError::bad_text);
}

TEST(EventValidation, WebsocketAcceptSubprotocol) {
  auto accept = [](bool has, std::string_view sub) {
    return check([&](E e) {
      e.setScope(1);
      auto a = e.initWebsocketAccept();
      a.setHasSubprotocol(has);
      a.setSubprotocol(text_of(sub));
    });
  };
  EXPECT_FALSE(accept(true, "chat.v2"));
  EXPECT_FALSE(accept(false, ""));
  EXPECT_EQ(accept(true, ""), EventError::bad_field);
  EXPECT_EQ(accept(true, "a b"), EventError::bad_field);
  EXPECT_EQ(accept(true, "a\r\nx: y"), EventError::bad_field);
}

std::error_code sse_send(std::string_view data, std::string_view event, std::string_view id, std::int64_t retry = -1) {
  return check([&](E e) {
    e.setScope(1);
    auto s = e.initSseSend();
    s.setData(text_of(data));
    s.setEvent(text_of(event));
    s.setId(text_of(id));
    s.setHasEvent(!event.empty());
    s.setHasId(!id.empty());
    s.setRetry(retry);
  });
}

TEST(EventValidation, SseSend) {
  EXPECT_FALSE(sse_send("a\nb\r\nc", "update", "7", 0));
  EXPECT_FALSE(sse_send("", "", "", 3000));
  EXPECT_FALSE(sse_send("\xe2\x82\xac", "\xe2\x82\xac", "\xe2\x82\xac"));
  EXPECT_EQ(sse_send("x", "a\nb", ""), EventError::bad_field);
  EXPECT_EQ(sse_send("x", "a\rb", ""), EventError::bad_field);
  EXPECT_EQ(sse_send("x", std::string_view("a\0b", 3), ""), EventError::bad_field);
  EXPECT_EQ(sse_send("x", "", "1\n2"), EventError::bad_field);
  EXPECT_EQ(sse_send("x", "", std::string_view("1\0", 2)), EventError::bad_field);
  EXPECT_EQ(sse_send("x", "", "", -2), EventError::bad_field);
  EXPECT_EQ(sse_send("\xc0\xaf", "", ""), EventError::bad_text);  // overlong '/'
  EXPECT_EQ(sse_send("x", "\xff", ""), EventError::bad_text);
  EXPECT_EQ(sse_send("x", "", "\xf5\x80\x80\x80"), EventError::bad_text);
}

TEST(EventValidation, SseComments) {
  auto comment = [](std::string_view text) {
    return check([&](E e) {
      e.setScope(1);
      e.setSseComment(text_of(text));
    });
  };
  auto keepalive = [](std::string_view text) {
    return check([&](E e) {
      e.setScope(1);
      auto k = e.initSseKeepalive();
      k.setIntervalMs(1000);
      k.setComment(text_of(text));
    });
  };
  for (auto fn : {+comment, +keepalive}) {
    EXPECT_FALSE(fn(""));
    EXPECT_FALSE(fn(":ping \xc3\xa9"));
    EXPECT_EQ(fn("a\nevent: x"), EventError::bad_field);
    EXPECT_EQ(fn("a\r"), EventError::bad_field);
    EXPECT_EQ(fn("\x80"), EventError::bad_text);
  }
}

TEST(EventValidation, OutOfBoundsEventPointerIsMalformed) {
  // A scopeEnd whose message pointer points past the segment end.
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::Envelope>();
  root.setScope(5);
  root.initScopeEnd().setMessage("x");
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  // Table 8 | root ptr 8 | envelope 24 | ScopeEnd: data 8, then its Text pointer.
  const std::size_t text_ptr = 8 + 8 + 24 + 8;
  bytes[text_ptr] = 0x7D;  // list pointer with a large offset
  bytes[text_ptr + 1] = 0x7F;
  capnp::FlatArrayMessageReader reader(words);
  EXPECT_EQ(validate_worker_message(reader.getRoot<wire::Envelope>()), EventError::malformed);
}

TEST(EventValidation, ErrorCodesHaveMessages) {
  std::error_code ec = EventError::bad_header_value;
  EXPECT_EQ(ec.category().name(), std::string("pagi.event"));
  EXPECT_FALSE(ec.message().empty());
  EXPECT_NE(ec.message(), "unknown event error");
}

}  // namespace
}  // namespace pagi::protocol
