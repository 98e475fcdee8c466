#include "gateway/admin/admin_server.hpp"

#include <cstring>
#include <unistd.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "gateway/config/config.hpp"

namespace pagi::gateway::admin {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using Protocol = asio::generic::stream_protocol;
using Acceptor = asio::basic_socket_acceptor<Protocol>;

namespace {

std::string_view query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

AdminResponse text(std::uint16_t status, std::string body) {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
  return r;
}

// One admin request: read it (bounded, with a deadline), answer, close.
class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(Protocol::socket socket, const AdminSettings& settings, AdminBackend& backend)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), backend_(backend) {
    parser_.header_limit(static_cast<std::uint32_t>(settings.max_request_bytes));
    parser_.body_limit(settings.max_request_bytes);
    timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(settings.request_timeout));
  }

  void start() {
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->close();
    });
    http::async_read(socket_, buffer_, parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(error_code ec) {
    if (ec) {
      if (ec == http::error::header_limit || ec == http::error::body_limit) {
        respond(text(431, "request too large"));
      } else {
        close();
      }
      return;
    }
    const auto& req = parser_.get();
    AdminResponse r;
    try {
      r = handle_admin_request(backend_, std::string_view(req.method_string().data(), req.method_string().size()),
                               std::string_view(req.target().data(), req.target().size()));
    } catch (const std::exception& e) {
      r = text(500, std::string("admin: ") + e.what());
    }
    respond(std::move(r));
  }

  void respond(AdminResponse r) {
    response_.result(r.status);
    response_.version(11);
    response_.set(http::field::content_type, r.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.keep_alive(false);
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    http::async_write(socket_, response_, [self = shared_from_this()](error_code, std::size_t) { self->close(); });
  }

  void close() {
    error_code ec;
    timer_.cancel();
    socket_.shutdown(asio::socket_base::shutdown_both, ec);
    socket_.close(ec);
  }

  Protocol::socket socket_;
  asio::steady_timer timer_;
  AdminBackend& backend_;
  boost::beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

AdminResponse handle_admin_request(AdminBackend& backend, std::string_view method, std::string_view target) {
  const auto qmark = target.find('?');
  const auto path = target.substr(0, qmark);
  const auto query = qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  const bool get = method == "GET" || method == "HEAD";
  const bool post = method == "POST";
  auto wrong_method = [&](std::string_view allowed) {
    auto r = text(405, "method not allowed: use " + std::string(allowed));
    return r;
  };

  if (path == "/livez") return get ? text(200, "ok") : wrong_method("GET");
  if (path == "/readyz") {
    if (!get) return wrong_method("GET");
    const auto why = backend.not_ready_reason();
    return why.empty() ? text(200, "ready") : text(503, "not ready: " + why);
  }
  if (path == "/metrics") {
    if (!get) return wrong_method("GET");
    AdminResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = backend.metrics_text();
    return r;
  }
  if (path == "/status") {
    if (!get) return wrong_method("GET");
    AdminResponse r;
    r.content_type = "application/json";
    r.body = backend.status_json();
    return r;
  }
  if (path == "/reload") return post ? backend.reload() : wrong_method("POST");
  if (path == "/drain") return post ? backend.drain() : wrong_method("POST");
  if (path == "/scale") {
    if (!post) return wrong_method("POST");
    return backend.scale(query_param(query, "pool"), query_param(query, "workers"));
  }
  if (path == "/maintenance") {
    if (!get && !post) return wrong_method("GET or POST");
    return backend.maintenance(post, query_param(query, "on"), query_param(query, "pool"), query_param(query, "close"));
  }
  return text(404,
              "not found: try /livez /readyz /metrics /status /maintenance, POST /reload /drain "
              "/scale?pool=NAME&workers=N /maintenance?on=1|0[&pool=NAME][&close=1]");
}

struct AdminServer::Impl : std::enable_shared_from_this<AdminServer::Impl> {
  Impl(asio::io_context& io_, const AdminSettings& s, AdminBackend& b)
      : io(io_), settings(s), backend(b), acceptor(io_) {}

  void accept() {
    if (!acceptor.is_open()) return;
    acceptor.async_accept([self = shared_from_this()](error_code ec, Protocol::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
        spdlog::warn("admin accept failed: {}", ec.message());
      } else {
        std::make_shared<AdminSession>(std::move(socket), self->settings, self->backend)->start();
      }
      self->accept();
    });
  }

  asio::io_context& io;
  AdminSettings settings;
  AdminBackend& backend;
  Acceptor acceptor;
  std::string address;
  std::string unix_path;
};

AdminServer::AdminServer(asio::io_context& io, const AdminSettings& settings, AdminBackend& backend)
    : impl_(std::make_shared<Impl>(io, settings, backend)) {
  const ListenAddress where = parse_listen_address(settings.listen);
  if (where.kind == ListenAddress::Kind::unix_socket) {
    struct stat st {};
    if (::lstat(where.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(where.path.c_str());
    const Protocol::endpoint ep{asio::local::stream_protocol::endpoint(where.path)};
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.bind(ep);
    // Admin can reload and scale: only the owner may connect.
    ::chmod(where.path.c_str(), 0600);
    impl_->unix_path = where.path;
    impl_->address = "unix:" + where.path;
  } else {
    const asio::ip::tcp::endpoint tcp(asio::ip::make_address(where.host == "localhost" ? "127.0.0.1" : where.host),
                                      where.port);
    const Protocol::endpoint ep(tcp);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(ep);
    const auto bound = impl_->acceptor.local_endpoint();
    asio::ip::tcp::endpoint actual;
    actual.resize(bound.size());
    std::memcpy(actual.data(), bound.data(), bound.size());
    const auto addr = actual.address();
    impl_->address = "http://" + (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
                     std::to_string(actual.port());
  }
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() { impl_->accept(); }

void AdminServer::stop() {
  error_code ec;
  impl_->acceptor.close(ec);
  if (!impl_->unix_path.empty()) ::unlink(impl_->unix_path.c_str());
  impl_->unix_path.clear();
}

const std::string& AdminServer::address() const { return impl_->address; }

}  // namespace pagi::gateway::admin
