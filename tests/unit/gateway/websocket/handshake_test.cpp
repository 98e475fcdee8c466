#include "gateway/websocket/handshake.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace pagi::gateway::websocket {
namespace {

using H = workers::HeaderView;

std::vector<H> upgrade_headers() {
  return {{"host", "x"},
          {"upgrade", "websocket"},
          {"connection", "keep-alive, Upgrade"},
          {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"sec-websocket-version", "13"}};
}

TEST(Handshake, AcceptKeyFromRfc6455) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, RecognisesUpgrade) {
  auto h = upgrade_headers();
  const auto r = check_upgrade("GET", 11, h);
  EXPECT_EQ(r.verdict, UpgradeVerdict::ok);
  EXPECT_EQ(r.key, "dGhlIHNhbXBsZSBub25jZQ==");
  h[1].value = "WebSocket";
  EXPECT_EQ(check_upgrade("GET", 11, h).verdict, UpgradeVerdict::ok);
}

TEST(Handshake, NotAnUpgrade) {
  std::vector<H> h{{"host", "x"}};
  EXPECT_EQ(check_upgrade("GET", 11, h).verdict, UpgradeVerdict::not_websocket);
  h.push_back({"upgrade", "h2c"});
  EXPECT_EQ(check_upgrade("GET", 11, h).verdict, UpgradeVerdict::not_websocket);
}

TEST(Handshake, BrokenUpgrades) {
  auto h = upgrade_headers();
  EXPECT_EQ(check_upgrade("POST", 11, h).verdict, UpgradeVerdict::bad_request);
  EXPECT_EQ(check_upgrade("GET", 10, h).verdict, UpgradeVerdict::bad_request);
  h[2].value = "keep-alive";
  EXPECT_EQ(check_upgrade("GET", 11, h).verdict, UpgradeVerdict::bad_request);
  h = upgrade_headers();
  h[4].value = "8";
  EXPECT_EQ(check_upgrade("GET", 11, h).verdict, UpgradeVerdict::bad_version);
  h = upgrade_headers();
  h[3].value = "short";
  EXPECT_EQ(check_upgrade("GET", 11, h).verdict, UpgradeVerdict::bad_request);
  h.erase(h.begin() + 3);
  EXPECT_EQ(check_upgrade("GET", 11, h).verdict, UpgradeVerdict::bad_request);
}

TEST(Handshake, Subprotocols) {
  std::vector<H> h{{"sec-websocket-protocol", " chat ,  superchat,,"}, {"sec-websocket-protocol", "v2"}};
  std::vector<std::string_view> out;
  parse_subprotocols(h, out);
  EXPECT_EQ(out, (std::vector<std::string_view>{"chat", "superchat", "v2"}));
  std::vector<H> none;
  parse_subprotocols(none, out);
  EXPECT_TRUE(out.empty());
}

TEST(Handshake, AcceptResponse) {
  std::string out;
  std::vector<H> extra{{"x-a", "1"}, {"connection", "close"}, {"sec-websocket-accept", "forged"}};
  write_accept_response(out, "dGhlIHNhbXBsZSBub25jZQ==", "chat", extra, "", "");
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\nx-a: 1\r\n\r\n");
}

TEST(Handshake, FinalResponse) {
  std::string out;
  std::vector<H> h{{"content-type", "text/plain"}, {"content-length", "99"}};
  write_final_response(out, 401, h, "no", "Thu, 01 Jan 1970 00:00:00 GMT", "");
  EXPECT_EQ(out,
            "HTTP/1.1 401 Unauthorized\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\ncontent-type: text/plain\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\nno");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(Handshake, TokenLists) {
  EXPECT_TRUE(list_has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_FALSE(list_has_token("upgrades", "upgrade"));
  EXPECT_FALSE(list_has_token("", "upgrade"));
}

}  // namespace
}  // namespace pagi::gateway::websocket
