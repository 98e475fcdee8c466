#include "tests/fakes/fake_scope_opener.hpp"

#include <boost/asio/post.hpp>

namespace pagi::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::vector<workers::HeaderView> views(const Headers& h) {
  std::vector<workers::HeaderView> v;
  for (const auto& [n, val] : h) v.push_back({n, val});
  return v;
}

class FakeUpstream final : public workers::Upstream {
 public:
  explicit FakeUpstream(std::shared_ptr<FakeScope> scope) : scope_(std::move(scope)) {}
  ~FakeUpstream() override { scope_->upstream_destroyed = true; }

  std::size_t request_window() const override { return scope_->window; }
  void send_body(std::string_view chunk, bool more) override {
    if (chunk.size() > scope_->window) {
      scope_->max_chunk_over_window = std::max(scope_->max_chunk_over_window, chunk.size() - scope_->window);
      scope_->window = 0;
    } else {
      scope_->window -= chunk.size();
    }
    scope_->body_chunks.emplace_back(chunk);
    scope_->body.append(chunk);
    if (!more) scope_->body_complete = true;
  }
  void response_written(std::size_t bytes) override {
    scope_->written += bytes;
    ++scope_->written_calls;
  }
  void response_done() override { ++scope_->done_calls; }
  void disconnect(DisconnectReason reason) override { scope_->disconnects.push_back(reason); }
  void send_message(bool text, std::string_view payload) override {
    scope_->window -= std::min(scope_->window, payload.size());
    scope_->messages.emplace_back(text, std::string(payload));
  }
  void websocket_closed(std::uint16_t code, std::string_view reason) override {
    scope_->ws_disconnects.emplace_back(code, std::string(reason));
  }

 private:
  std::shared_ptr<FakeScope> scope_;
};

}  // namespace

std::optional<std::string> RecordedScope::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return std::nullopt;
}

void FakeScope::grant(std::size_t bytes) {
  window += bytes;
  if (auto d = downstream.lock()) d->on_request_credit();
}

void FakeScope::start(std::uint16_t status, Headers headers, bool trailers) {
  const auto v = views(headers);
  if (auto d = downstream.lock()) d->on_response_start(status, v, trailers);
}

void FakeScope::send(std::string_view data, bool more) {
  if (auto d = downstream.lock()) d->on_response_body(data, more);
}

void FakeScope::send_shared(const protocol::SharedBytes& body, bool more) {
  if (auto d = downstream.lock()) d->on_response_body_shared(body, more);
}

void FakeScope::send_file(const std::string& path, std::uint64_t offset, std::int64_t length) {
  if (auto d = downstream.lock()) d->on_response_file(path, offset, length);
}

void FakeScope::send_trailers(Headers trailers) {
  const auto v = views(trailers);
  if (auto d = downstream.lock()) d->on_response_trailers(v);
}

void FakeScope::app_done(bool failed) {
  if (auto d = downstream.lock()) d->on_app_done(failed);
}

void FakeScope::upstream_error(workers::UpstreamError e) {
  if (auto d = downstream.lock()) d->on_upstream_error(e);
}

void FakeScope::respond(std::uint16_t status, std::string_view data, Headers headers) {
  start(status, std::move(headers));
  send(data, false);
}

void FakeScope::ws_accept(std::string_view subprotocol, Headers headers) {
  const auto v = views(headers);
  if (auto d = downstream.lock()) d->on_websocket_accept(subprotocol, v);
}

void FakeScope::ws_send(bool text, std::string_view payload) {
  if (auto d = downstream.lock()) d->on_websocket_send(text, payload);
}

void FakeScope::ws_close(std::uint16_t code, std::string_view reason) {
  if (auto d = downstream.lock()) d->on_websocket_close(code, reason);
}

void FakeScope::ws_keepalive(std::uint32_t interval_ms, std::uint32_t timeout_ms) {
  if (auto d = downstream.lock()) d->on_websocket_keepalive(interval_ms, timeout_ms);
}

void FakeScope::sse_start(std::uint16_t status, Headers headers) {
  const auto v = views(headers);
  if (auto d = downstream.lock()) d->on_sse_start(status, v);
}

void FakeScope::sse_send(const workers::SseEventView& event) {
  if (auto d = downstream.lock()) d->on_sse_send(event);
}

void FakeScope::sse_comment(std::string_view comment) {
  if (auto d = downstream.lock()) d->on_sse_comment(comment);
}

void FakeScope::sse_keepalive(std::uint32_t interval_ms, std::string_view comment) {
  if (auto d = downstream.lock()) d->on_sse_keepalive(interval_ms, comment);
}

void FakeScope::sse_close(std::string_view reason) {
  if (auto d = downstream.lock()) d->on_sse_close(reason);
}

void FakeScope::server_close(bool restart) {
  if (auto d = downstream.lock()) d->on_server_close(restart);
}

std::unique_ptr<workers::Upstream> FakeScopeOpener::open_scope(const workers::ScopeRequest& r,
                                                               std::weak_ptr<workers::Downstream> downstream) {
  auto scope = std::make_shared<FakeScope>();
  auto& rec = scope->request;
  rec.http_version = r.http_version;
  rec.method = r.method;
  rec.scheme = r.scheme;
  rec.path = r.path;
  rec.raw_path = r.raw_path;
  rec.query_string = r.query_string;
  rec.root_path = r.root_path;
  for (const auto& h : r.headers) rec.headers.emplace_back(h.name, h.value);
  rec.client_host = r.client_host;
  rec.client_port = r.client_port;
  rec.peer_host = r.peer_host;
  rec.peer_port = r.peer_port;
  rec.server_host = r.server_host;
  rec.server_port = r.server_port;
  rec.server_is_unix = r.server_is_unix;
  rec.has_body = r.has_body;
  rec.body = r.body;
  rec.more = r.more;
  rec.expect_continue = r.expect_continue;
  rec.type = r.type;
  for (const auto p : r.subprotocols) rec.subprotocols.emplace_back(p);
  rec.extensions = r.extensions;
  scope->downstream = std::move(downstream);
  // As the pool: the body in the open counts against the first window.
  scope->window = initial_window - std::min(initial_window, r.has_body ? r.body.size() : 0);
  scopes.push_back(scope);
  if (on_open && executor_) {
    boost::asio::post(executor_, [scope, this] {
      if (on_open) on_open(*scope);
    });
  }
  return std::make_unique<FakeUpstream>(scope);
}

}  // namespace pagi::testing
