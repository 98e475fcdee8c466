// Answers a scope in the gateway, through the same Downstream calls a
// worker's response takes (on_response_start, on_response_body or
// on_response_file, on_app_done), so every transport (HTTP/1 today, HTTP/2
// later, the WebSocket denial response) serves it unchanged. The calls are
// posted: ScopeOpener::open_scope must not call back from inside itself.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "gateway/edge/file_response.hpp"
#include "workers/upstream.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::gateway::edge {

// `label` is what access logs see as the serving pool ("edge:static", ...).
std::unique_ptr<workers::Upstream> answer_locally(boost::asio::io_context& io, FileAnswer answer,
                                                  std::weak_ptr<workers::Downstream> downstream,
                                                  std::string_view label);

// Where a transport can re-open an already open descriptor: the same file
// even if its name changed since (no check-then-open race).
std::string descriptor_path(int fd);

}  // namespace pagi::gateway::edge
