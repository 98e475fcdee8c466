// Builds the workers::ScopeRequest for one HTTP/1 request head. The request's
// views point into this builder and the head; they stay valid until the next
// build() or the head's next message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/http1/request_head.hpp"
#include "workers/scope_request.hpp"

namespace pagi::gateway::http1 {

// Socket addresses of a connection, as the scope reports them.
struct PeerInfo {
  std::string client_host;  // empty for a Unix socket peer
  std::uint16_t client_port = 0;
  std::string server_host;  // address, or the socket path for Unix sockets
  std::uint16_t server_port = 0;
  bool server_is_unix = false;
};

class ScopeBuilder {
 public:
  // A request without body carries its single (empty) http.request event.
  // A request with body opens with has_body=false: the body follows as the
  // app grants credit (its window is only known once the scope is open).
  const workers::ScopeRequest& build(const RequestHead& head, const PeerInfo& peer);

 private:
  std::string path_;
  std::string cookies_;
  std::vector<workers::HeaderView> headers_;
  workers::ScopeRequest request_;
};

}  // namespace pagi::gateway::http1
