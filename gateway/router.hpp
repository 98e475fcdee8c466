// The ScopeOpener the listeners hold when there are pools: picks the pool
// for a scope by its path (RouteTable), sets root_path to the matched
// prefix (path stays whole) and passes the route's parameters on, then lets
// that pool open it. Its table can be swapped (reload) between scopes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/config/route_table.hpp"
#include "workers/upstream.hpp"

namespace boost::asio {
class io_context;
}

namespace pagi::gateway {

class Router final : public workers::ScopeOpener {
 public:
  explicit Router(boost::asio::io_context& io) : io_(io) {}
  // `pools[i]` serves routes whose pool index is i; they must outlive the
  // router (or the next set_table).
  void set_table(RouteTable table, std::vector<workers::ScopeOpener*> pools);

  std::unique_ptr<workers::Upstream> open_scope(const workers::ScopeRequest& request,
                                                std::weak_ptr<workers::Downstream> downstream) override;
  // Asks the pool the path routes to (websocket/sse scope support).
  bool supports(const workers::ScopeRequest& request) override;
  std::size_t open_body_window(const workers::ScopeRequest& request) override;

 private:
  boost::asio::io_context& io_;
  RouteTable table_;
  std::vector<workers::ScopeOpener*> pools_;
  std::vector<std::string_view> params_;  // scratch, valid during open_scope
  std::string root_path_;                 // scratch
};

}  // namespace pagi::gateway
