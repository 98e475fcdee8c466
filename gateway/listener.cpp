#include "gateway/listener.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>
#include <vector>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <spdlog/spdlog.h>

#include "gateway/http1/connection.hpp"

namespace pagi::gateway {
namespace asio = boost::asio;
using boost::system::error_code;
using GenericProtocol = asio::generic::stream_protocol;
using GenericAcceptor = asio::basic_socket_acceptor<GenericProtocol>;

struct Listener::Impl : std::enable_shared_from_this<Listener::Impl> {
  struct Acceptor {
    GenericAcceptor acceptor;
    bool accepting = false;  // an async_accept is pending
    std::string unix_path;   // removed at close
  };

  Impl(asio::io_context& ioc, const HttpSettings& s, workers::ScopeOpener& o)
      : ioc(ioc), settings(s), opener(o) {}

  asio::io_context& ioc;
  HttpSettings settings;
  workers::ScopeOpener& opener;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::unordered_map<std::uint64_t, std::weak_ptr<http1::Connection>> connections;
  std::uint64_t next_id = 1;
  bool started = false;
  bool stopping = false;
  std::function<void()> on_all_closed;

  void accept_on(Acceptor& a) {
    if (!started || stopping || a.accepting || !a.acceptor.is_open()) return;
    if (connections.size() >= settings.max_connections) return;  // resumed on a close
    a.accepting = true;
    a.acceptor.async_accept([self = shared_from_this(), &a](error_code ec, GenericProtocol::socket socket) {
      a.accepting = false;
      if (ec) {
        if (ec != asio::error::operation_aborted && !self->stopping) {
          spdlog::warn("accept failed: {}", ec.message());
          self->accept_on(a);  // EMFILE and friends: keep serving the open ones
        }
        return;
      }
      self->adopt(std::move(socket));
      self->accept_on(a);
    });
  }

  void adopt(GenericProtocol::socket socket) {
    if (stopping) return;
    const auto id = next_id++;
    std::weak_ptr<Impl> weak = shared_from_this();
    auto conn = http1::make_connection(std::move(socket), settings, opener, [weak, id] {
      if (auto self = weak.lock()) self->on_closed(id);
    });
    connections.emplace(id, conn);
    conn->start();
  }

  void on_closed(std::uint64_t id) {
    connections.erase(id);
    if (stopping) {
      if (connections.empty() && on_all_closed) {
        auto cb = std::move(on_all_closed);
        on_all_closed = nullptr;
        // Posted: the closing connection is still on the stack.
        asio::post(ioc, std::move(cb));
      }
      return;
    }
    for (auto& a : acceptors) accept_on(*a);
  }

  template <class F>
  void for_each_connection(F&& f) {
    // Copy first: closing a connection erases it from the map.
    std::vector<std::shared_ptr<http1::Connection>> live;
    for (auto& [id, weak] : connections)
      if (auto c = weak.lock()) live.push_back(std::move(c));
    for (auto& c : live) f(*c);
  }

  void close_acceptors() {
    for (auto& a : acceptors) {
      error_code ec;
      a->acceptor.close(ec);
      if (!a->unix_path.empty()) ::unlink(a->unix_path.c_str());
      a->unix_path.clear();
    }
  }
};

Listener::Listener(asio::io_context& ioc, const HttpSettings& settings, workers::ScopeOpener& opener)
    : impl_(std::make_shared<Impl>(ioc, settings, opener)) {}

Listener::~Listener() {
  impl_->stopping = true;
  impl_->close_acceptors();
  impl_->for_each_connection([](http1::Connection& c) { c.close_now(); });
}

asio::ip::tcp::endpoint Listener::listen_tcp(const std::string& host, std::uint16_t port) {
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  const asio::ip::tcp::endpoint endpoint(address, port);
  auto a = std::make_unique<Impl::Acceptor>(Impl::Acceptor{GenericAcceptor(impl_->ioc)});
  const GenericProtocol::endpoint generic(endpoint);
  a->acceptor.open(generic.protocol());
  a->acceptor.set_option(asio::socket_base::reuse_address(true));
  a->acceptor.bind(generic);
  a->acceptor.listen(asio::socket_base::max_listen_connections);
  const auto bound = a->acceptor.local_endpoint();
  asio::ip::tcp::endpoint result;
  result.resize(bound.size());
  std::memcpy(result.data(), bound.data(), bound.size());
  impl_->acceptors.push_back(std::move(a));
  if (impl_->started) impl_->accept_on(*impl_->acceptors.back());
  return result;
}

void Listener::listen_unix(const std::string& path, unsigned mode) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw boost::system::system_error(make_error_code(boost::system::errc::file_exists),
                                        "listen " + path + ": exists and is not a socket");
    ::unlink(path.c_str());  // stale socket from an earlier run
  }
  auto a = std::make_unique<Impl::Acceptor>(Impl::Acceptor{GenericAcceptor(impl_->ioc)});
  const GenericProtocol::endpoint generic{asio::local::stream_protocol::endpoint(path)};
  a->acceptor.open(generic.protocol());
  a->acceptor.bind(generic);
  a->acceptor.listen(asio::socket_base::max_listen_connections);
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
  a->unix_path = path;
  impl_->acceptors.push_back(std::move(a));
  if (impl_->started) impl_->accept_on(*impl_->acceptors.back());
}

void Listener::start() {
  impl_->started = true;
  for (auto& a : impl_->acceptors) impl_->accept_on(*a);
}

void Listener::shutdown(std::function<void()> on_all_closed) {
  impl_->stopping = true;
  impl_->on_all_closed = std::move(on_all_closed);
  impl_->close_acceptors();
  impl_->for_each_connection([](http1::Connection& c) { c.shutdown_gracefully(); });
  if (impl_->connections.empty() && impl_->on_all_closed) {
    auto cb = std::move(impl_->on_all_closed);
    impl_->on_all_closed = nullptr;
    asio::post(impl_->ioc, std::move(cb));
  }
}

void Listener::close_all() {
  impl_->stopping = true;
  impl_->close_acceptors();
  impl_->for_each_connection([](http1::Connection& c) { c.close_now(); });
}

std::size_t Listener::connection_count() const { return impl_->connections.size(); }

}  // namespace pagi::gateway
