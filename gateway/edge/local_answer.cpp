#include "gateway/edge/local_answer.hpp"

#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace pagi::gateway::edge {
namespace {

class LocalUpstream final : public workers::Upstream {
 public:
  explicit LocalUpstream(std::string_view label) : label_(label) {}
  std::size_t request_window() const override { return 0; }  // a request body is never read
  void send_body(std::string_view, bool) override {}
  void response_written(std::size_t) override {}
  void response_done() override {}
  void disconnect(DisconnectReason) override {}
  std::string_view pool_name() const override { return label_; }

 private:
  std::string label_;
};

}  // namespace

std::string descriptor_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::unique_ptr<workers::Upstream> answer_locally(boost::asio::io_context& io, FileAnswer answer,
                                                  std::weak_ptr<workers::Downstream> downstream,
                                                  std::string_view label) {
  auto shared = std::make_shared<FileAnswer>(std::move(answer));
  boost::asio::post(io, [shared, downstream = std::move(downstream)] {
    const auto ds = downstream.lock();
    if (!ds) return;
    std::vector<workers::HeaderView> views;
    views.reserve(shared->headers.size());
    for (const auto& [name, value] : shared->headers) views.push_back({name, value});
    ds->on_response_start(shared->status, views, false);
    // The transport re-opens the descriptor, so ours closes with `shared`.
    if (shared->file)
      ds->on_response_file(descriptor_path(shared->file.get()), shared->offset,
                           static_cast<std::int64_t>(shared->length));
    else
      ds->on_response_body(shared->body, false);
    ds->on_app_done(false);
  });
  return std::make_unique<LocalUpstream>(label);
}

}  // namespace pagi::gateway::edge
