#include "gateway/edge/sendfile_filter.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "gateway/edge/local_answer.hpp"
#include "gateway/edge/static_files.hpp"

namespace pagi::gateway::edge {
namespace {

class SendfileFilter final : public workers::Downstream {
 public:
  SendfileFilter(boost::asio::io_context& io, std::shared_ptr<const EdgeSettings> settings,
                 const workers::ScopeRequest& request, std::weak_ptr<workers::Downstream> inner)
      : io_(io),
        keep_settings_(std::move(settings)),
        settings_(*keep_settings_),
        inner_(std::move(inner)),
        head_(request.method == "HEAD") {
    // Only what a file answer reads is kept (the request's views die with the call).
    for (const auto& h : request.headers) {
      if (h.name == "range" || h.name == "if-range" || h.name == "if-none-match" || h.name == "if-modified-since" ||
          h.name == "accept-encoding")
        kept_.emplace_back(std::string(h.name), std::string(h.value));
    }
  }

  void set_upstream(std::weak_ptr<workers::Upstream*> upstream) { upstream_ = std::move(upstream); }

  void on_response_start(std::uint16_t status, std::span<const workers::HeaderView> headers, bool trailers) override {
    const auto ds = inner_.lock();
    if (!ds) return;
    std::string_view sendfile, accel;
    for (const auto& h : headers) {
      if (h.name == "x-sendfile" && !settings_.sendfile_roots.empty())
        sendfile = h.value;
      else if (h.name == "x-accel-redirect" && settings_.accel_redirect)
        accel = h.value;
    }
    if (sendfile.empty() && accel.empty()) return ds->on_response_start(status, headers, trailers);
    swallow_ = true;
    FileAnswer answer = sendfile.empty() ? accel_redirect(accel) : x_sendfile(sendfile);
    // The app's own fields stay, except those that described its (empty) body.
    if (status == 200 && answer.file) {
      for (const auto& h : headers) {
        if (h.name == "x-sendfile" || h.name == "x-accel-redirect" || h.name == "content-length" ||
            h.name == "content-range" || h.name == "etag" || h.name == "last-modified" || h.name == "accept-ranges")
          continue;
        if (h.name == "content-type") {
          for (auto& [n, v] : answer.headers)
            if (n == "content-type") v = std::string(h.value);
          continue;
        }
        answer.headers.emplace_back(std::string(h.name), std::string(h.value));
      }
    }
    std::vector<workers::HeaderView> views;
    for (const auto& [n, v] : answer.headers) views.push_back({n, v});
    ds->on_response_start(answer.status, views, false);
    if (answer.file)
      ds->on_response_file(descriptor_path(answer.file.get()), answer.offset, static_cast<std::int64_t>(answer.length));
    else
      ds->on_response_body(answer.body, false);
  }

  void on_response_body(std::string_view body, bool more) override {
    if (!swallow_) {
      if (const auto ds = inner_.lock()) ds->on_response_body(body, more);
      return;
    }
    // The app's body is dropped; its credit goes back so it is never stuck.
    if (body.empty()) return;
    boost::asio::post(io_, [weak = upstream_, n = body.size()] {
      if (const auto up = weak.lock(); up && *up) (*up)->response_written(n);
    });
  }
  void on_response_file(std::string_view path, std::uint64_t offset, std::int64_t length) override {
    if (swallow_) return;
    if (const auto ds = inner_.lock()) ds->on_response_file(path, offset, length);
  }
  void on_response_trailers(std::span<const workers::HeaderView> trailers) override {
    if (swallow_) return;
    if (const auto ds = inner_.lock()) ds->on_response_trailers(trailers);
  }
  void on_flush() override {
    if (const auto ds = inner_.lock()) ds->on_flush();
  }
  void on_request_credit() override {
    if (const auto ds = inner_.lock()) ds->on_request_credit();
  }
  void on_app_done(bool failed) override {
    if (const auto ds = inner_.lock()) ds->on_app_done(failed && !swallow_);
  }
  void on_upstream_error(workers::UpstreamError error) override {
    if (const auto ds = inner_.lock()) ds->on_upstream_error(error);
  }
  void on_server_close(bool restart) override {
    if (const auto ds = inner_.lock()) ds->on_server_close(restart);
  }

 private:
  std::span<const workers::HeaderView> request_headers() {
    views_.clear();
    for (const auto& [n, v] : kept_) views_.push_back({n, v});
    return views_;
  }

  FileAnswer x_sendfile(std::string_view path) {
    for (const auto& root : settings_.sendfile_roots) {
      if (!(path.starts_with(root) && path.size() > root.size() && path[root.size()] == '/')) continue;
      LookupError error;
      auto opened = open_under_root(root, path.substr(root.size()), SymlinkPolicy::within_root, {}, error);
      if (!opened)
        return plain_answer(error == LookupError::forbidden ? 403 : 404,
                            error == LookupError::forbidden ? "Forbidden" : "Not Found");
      FileRepresentation rep;
      rep.content_type = mime_type(opened->name);
      rep.st = opened->st;
      rep.file = std::move(opened->file);
      return answer_for_file(std::move(rep), request_headers());
    }
    spdlog::warn("X-Sendfile path outside sendfile.roots refused: {}", path);
    return plain_answer(403, "Forbidden");
  }

  FileAnswer accel_redirect(std::string_view uri) {
    const auto query = uri.find('?');
    const auto path = uri.substr(0, query);
    const StaticMount* mount = find_mount(settings_.static_mounts, path);
    if (!mount) {
      spdlog::warn("X-Accel-Redirect to a path under no static mount refused: {}", path);
      return plain_answer(403, "Forbidden");
    }
    StaticRequest r{head_ ? "HEAD" : "GET", path, path, {}, request_headers()};
    return serve_static(*mount, r);
  }

  boost::asio::io_context& io_;
  std::shared_ptr<const EdgeSettings> keep_settings_;  // a reload must not pull it away
  const EdgeSettings& settings_;
  std::weak_ptr<workers::Downstream> inner_;
  std::weak_ptr<workers::Upstream*> upstream_;
  bool head_ = false;
  bool swallow_ = false;
  std::vector<std::pair<std::string, std::string>> kept_;
  std::vector<workers::HeaderView> views_;
};

// What the transport owns: the pool's Upstream plus the filter in front of
// its Downstream.
class FilteredUpstream final : public workers::Upstream {
 public:
  FilteredUpstream(std::shared_ptr<SendfileFilter> filter) : filter_(std::move(filter)) {}
  void attach(std::unique_ptr<workers::Upstream> inner) {
    inner_ = std::move(inner);
    self_ = std::make_shared<workers::Upstream*>(inner_.get());
    filter_->set_upstream(self_);
  }
  std::size_t request_window() const override { return inner_->request_window(); }
  void send_body(std::string_view chunk, bool more) override { inner_->send_body(chunk, more); }
  void response_written(std::size_t bytes) override { inner_->response_written(bytes); }
  void response_done() override { inner_->response_done(); }
  void disconnect(DisconnectReason reason) override { inner_->disconnect(reason); }
  std::string_view pool_name() const override { return inner_->pool_name(); }
  int worker_pid() const override { return inner_->worker_pid(); }

 private:
  std::shared_ptr<SendfileFilter> filter_;
  std::unique_ptr<workers::Upstream> inner_;
  std::shared_ptr<workers::Upstream*> self_;  // the filter's weak handle to inner_
};

}  // namespace

std::unique_ptr<workers::Upstream> open_with_sendfile_filter(boost::asio::io_context& io,
                                                             std::shared_ptr<const EdgeSettings> settings,
                                                             const workers::ScopeRequest& request,
                                                             workers::ScopeOpener& inner,
                                                             std::weak_ptr<workers::Downstream> downstream) {
  auto filter = std::make_shared<SendfileFilter>(io, std::move(settings), request, std::move(downstream));
  auto out = std::make_unique<FilteredUpstream>(filter);
  out->attach(inner.open_scope(request, std::weak_ptr<workers::Downstream>(filter)));
  return out;
}

}  // namespace pagi::gateway::edge
