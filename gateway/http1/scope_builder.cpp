#include "gateway/http1/scope_builder.hpp"

#include "gateway/http1/path_decoding.hpp"

namespace pagi::gateway::http1 {

const workers::ScopeRequest& ScopeBuilder::build(const RequestHead& head, const PeerInfo& peer) {
  auto& r = request_;
  r = workers::ScopeRequest{};
  r.type = wire::ScopeType::HTTP;
  r.http_version = head.version() >= 11 ? "1.1" : "1.0";
  r.method = head.method();
  r.scheme = "http";
  const auto parts = split_target(head.target());
  decode_path(parts.raw_path, path_);
  r.path = path_;
  r.raw_path = parts.raw_path;
  r.query_string = parts.query_string;
  r.root_path = "";
  // Every write goes straight to the socket, so http.fullflush is honoured
  // trivially.
  r.extensions = wire::EXT_FULLFLUSH;
  // 103 Early Hints need HTTP/1.1 (no interim responses in 1.0).
  if (head.version() >= 11) r.extensions |= wire::EXT_EARLY_HINTS;

  // Headers in order; every Cookie field folds into the first one's place
  // with "; " (RFC 9113 8.2.3 does the same for HTTP/2).
  headers_.clear();
  cookies_.clear();
  std::size_t cookie_slot = SIZE_MAX;
  for (std::size_t i = 0; i < head.header_count(); ++i) {
    const auto name = head.header_name(i);
    const auto value = head.header_value(i);
    if (name == "cookie") {
      if (cookie_slot == SIZE_MAX) {
        cookie_slot = headers_.size();
        headers_.push_back({name, {}});
      } else {
        cookies_.append("; ");
      }
      cookies_.append(value);
      continue;
    }
    headers_.push_back({name, value});
  }
  if (cookie_slot != SIZE_MAX) headers_[cookie_slot].value = cookies_;
  r.headers = headers_;

  r.client_host = peer.client_host;
  r.client_port = peer.client_port;
  r.server_host = peer.server_host;
  r.server_port = peer.server_port;
  r.server_is_unix = peer.server_is_unix;

  r.expect_continue = head.expect_continue;
  if (!head.has_body()) {
    r.has_body = true;
    r.body = "";
    r.more = false;
  }
  return r;
}

}  // namespace pagi::gateway::http1
