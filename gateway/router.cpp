#include "gateway/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace pagi::gateway {

namespace {

// A scope no route takes: cannot happen with a validated table (it always
// has "/"), but a transport must still get its answer, never a null.
class UnroutedUpstream final : public workers::Upstream {
 public:
  std::size_t request_window() const override { return 0; }
  void send_body(std::string_view, bool) override {}
  void response_written(std::size_t) override {}
  void response_done() override {}
  void disconnect(DisconnectReason) override {}
};

}  // namespace

void Router::set_table(RouteTable table, std::vector<workers::ScopeOpener*> pools) {
  table_ = std::move(table);
  pools_ = std::move(pools);
}

std::unique_ptr<workers::Upstream> Router::open_scope(const workers::ScopeRequest& request,
                                                      std::weak_ptr<workers::Downstream> downstream) {
  params_.clear();
  const auto match = table_.match(request.path, params_);
  if (!match || match->pool >= pools_.size() || pools_[match->pool] == nullptr) {
    boost::asio::post(io_, [downstream] {
      if (auto ds = downstream.lock()) ds->on_upstream_error(workers::UpstreamError::pool_failed);
    });
    return std::make_unique<UnroutedUpstream>();
  }
  workers::ScopeRequest routed = request;
  // An outer root_path (a listener mounted below "/") stays in front.
  root_path_.assign(request.root_path);
  root_path_.append(request.path.substr(0, match->root_length));
  routed.root_path = root_path_;
  routed.route_params = params_;
  return pools_[match->pool]->open_scope(routed, std::move(downstream));
}

std::size_t Router::open_body_window(const workers::ScopeRequest& request) {
  std::vector<std::string_view> params;
  const auto match = table_.match(request.path, params);
  if (!match || match->pool >= pools_.size() || pools_[match->pool] == nullptr) return 0;
  return pools_[match->pool]->open_body_window(request);
}

bool Router::supports(const workers::ScopeRequest& request) {
  std::vector<std::string_view> params;
  const auto match = table_.match(request.path, params);
  if (!match || match->pool >= pools_.size() || pools_[match->pool] == nullptr) return true;  // open_scope answers
  return pools_[match->pool]->supports(request);
}

}  // namespace pagi::gateway
