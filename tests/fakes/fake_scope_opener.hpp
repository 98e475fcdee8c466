// A fake pool for transport tests: it records every scope a transport opens
// and every Upstream call, and lets the test play the app through the
// Downstream the transport handed over. Single-threaded, like the gateway.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "protocol/disconnect_reason.hpp"
#include "protocol/frame_codec.hpp"
#include "workers/downstream.hpp"
#include "workers/upstream.hpp"

namespace pagi::testing {

// An owned copy of a workers::ScopeRequest.
struct RecordedScope {
  std::string http_version, method, scheme, path, raw_path, query_string, root_path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string client_host, server_host;
  std::uint16_t client_port = 0, server_port = 0;
  std::string peer_host;  // set when the edge layer replaced the client
  std::uint16_t peer_port = 0;
  bool server_is_unix = false;
  bool has_body = false, more = false, expect_continue = false;
  std::string body;
  wire::ScopeType type = wire::ScopeType::HTTP;
  std::vector<std::string> subprotocols;
  std::uint32_t extensions = 0;

  std::optional<std::string> header(std::string_view name) const;
};

// One opened scope: what the transport did, and the app's side of it.
class FakeScope {
 public:
  RecordedScope request;
  std::weak_ptr<workers::Downstream> downstream;

  // Upstream calls, as recorded.
  std::size_t window = 0;                 // what request_window() answers
  std::vector<std::string> body_chunks;   // send_body chunks, in order
  std::string body;                       // their concatenation
  bool body_complete = false;             // send_body(..., more=false) seen
  std::size_t max_chunk_over_window = 0;  // bytes delivered beyond the window (must stay 0)
  std::size_t written = 0;                // response_written total
  int written_calls = 0;
  int done_calls = 0;  // response_done
  std::vector<DisconnectReason> disconnects;
  bool upstream_destroyed = false;
  // websocket scopes: websocket.receive messages (text?, payload) and
  // websocket.disconnect (code, reason), as the transport reported them.
  std::vector<std::pair<bool, std::string>> messages;
  std::vector<std::pair<std::uint16_t, std::string>> ws_disconnects;

  // The app's actions (no-ops once the transport dropped the Downstream).
  void grant(std::size_t bytes);  // window += bytes, then on_request_credit
  void start(std::uint16_t status, std::vector<std::pair<std::string, std::string>> headers = {},
             bool trailers = false);
  void send(std::string_view body, bool more);
  // The same with the body's storage shared, as the pool hands large bodies over.
  void send_shared(const protocol::SharedBytes& body, bool more);
  void send_file(const std::string& path, std::uint64_t offset, std::int64_t length);
  void send_trailers(std::vector<std::pair<std::string, std::string>> trailers);
  void app_done(bool failed = false);
  void upstream_error(workers::UpstreamError e);
  // Convenience: start + one body.
  void respond(std::uint16_t status, std::string_view body,
               std::vector<std::pair<std::string, std::string>> headers = {});
  // websocket.* sends.
  void ws_accept(std::string_view subprotocol = {}, std::vector<std::pair<std::string, std::string>> headers = {});
  void ws_send(bool text, std::string_view payload);
  void ws_close(std::uint16_t code = 1000, std::string_view reason = {});
  void ws_keepalive(std::uint32_t interval_ms, std::uint32_t timeout_ms);
  // sse.* sends.
  void sse_start(std::uint16_t status = 200, std::vector<std::pair<std::string, std::string>> headers = {});
  void sse_send(const workers::SseEventView& event);
  void sse_comment(std::string_view comment);
  void sse_keepalive(std::uint32_t interval_ms, std::string_view comment = {});
  void sse_close(std::string_view reason = {});
  void server_close(bool restart);
  bool alive() const { return !downstream.expired(); }
};

class FakeScopeOpener final : public workers::ScopeOpener {
 public:
  FakeScopeOpener() = default;
  // With an executor, on_open runs posted after each open (never inside it,
  // as the ScopeOpener contract demands).
  explicit FakeScopeOpener(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  std::unique_ptr<workers::Upstream> open_scope(const workers::ScopeRequest& request,
                                                std::weak_ptr<workers::Downstream> downstream) override;

  std::vector<std::shared_ptr<FakeScope>> scopes;
  std::size_t initial_window = 0;   // window of each new scope
  bool websocket_supported = true;  // what supports() answers
  bool sse_supported = true;
  bool supports(const workers::ScopeRequest& request) override {
    if (request.type == wire::ScopeType::WEBSOCKET) return websocket_supported;
    if (request.type == wire::ScopeType::SSE) return sse_supported;
    return true;
  }
  std::size_t body_in_open = 0;  // what open_body_window() answers
  std::size_t open_body_window(const workers::ScopeRequest& request) override {
    return request.expect_continue ? 0 : body_in_open;
  }
  std::function<void(FakeScope&)> on_open;  // the app, posted

 private:
  boost::asio::any_io_executor executor_;
};

}  // namespace pagi::testing
