// The Upstream a transport holds for one scope: a scope id and a weak
// reference to the pool, so either may go first.
#include "workers/pool_core.hpp"

namespace pagi::workers {
namespace {

class PoolUpstream final : public Upstream {
 public:
  PoolUpstream(std::weak_ptr<PoolCore> core, std::uint64_t id) : core_(std::move(core)), id_(id) {}
  ~PoolUpstream() override {
    if (auto core = core_.lock()) core->upstream_released(id_);
  }

  std::size_t request_window() const override {
    auto core = core_.lock();
    return core ? core->request_window(id_) : 0;
  }
  void send_body(std::string_view chunk, bool more) override {
    if (auto core = core_.lock()) core->send_body(id_, chunk, more);
  }
  void response_written(std::size_t bytes) override {
    if (auto core = core_.lock()) core->response_written(id_, bytes);
  }
  void response_done() override {
    if (auto core = core_.lock()) core->response_done(id_);
  }
  void disconnect(DisconnectReason reason) override {
    if (auto core = core_.lock()) core->disconnect(id_, reason);
  }
  std::string_view pool_name() const override {
    auto core = core_.lock();
    return core ? std::string_view(core->settings().name) : std::string_view();
  }
  int worker_pid() const override {
    auto core = core_.lock();
    return core ? core->scope_worker_pid(id_) : 0;
  }
  void send_message(bool text, std::string_view payload) override {
    if (auto core = core_.lock()) core->send_message(id_, text, payload);
  }
  void websocket_closed(std::uint16_t code, std::string_view reason) override {
    if (auto core = core_.lock()) core->websocket_closed(id_, code, reason);
  }

 private:
  std::weak_ptr<PoolCore> core_;
  std::uint64_t id_;
};

}  // namespace

std::unique_ptr<Upstream> make_pool_upstream(std::weak_ptr<PoolCore> core, std::uint64_t id) {
  return std::make_unique<PoolUpstream>(std::move(core), id);
}

}  // namespace pagi::workers
