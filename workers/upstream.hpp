// The pool side of a scope (DESIGN.md "Upstream"): what a transport calls to
// talk to the app serving its scope. Obtained from ScopeOpener::open_scope.
//
// Lifetime: the transport owns the Upstream (unique_ptr). The pool refers to
// the Downstream by weak_ptr and to the scope by id, never by pointer, so
// either side may go first. Destroying an Upstream whose response was neither
// done nor disconnected counts as disconnect(server_error).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "protocol/disconnect_reason.hpp"
#include "workers/downstream.hpp"
#include "workers/scope_request.hpp"

namespace pagi::workers {

class Upstream {
 public:
  virtual ~Upstream() = default;

  // Request body bytes the app will accept right now (its credit). 0 while
  // the scope waits in the pool queue.
  virtual std::size_t request_window() const = 0;
  // One http.request chunk; chunk.size() <= request_window().
  virtual void send_body(std::string_view chunk, bool more) = 0;
  // `bytes` of response body reached the client's socket: returns them to
  // the worker as credit.
  virtual void response_written(std::size_t bytes) = 0;
  // The whole response reached the socket (pagi.connection on_complete).
  virtual void response_done() = 0;
  // The client side ended abnormally; tells the app (http.disconnect with
  // the reason). Idempotent; after it the pool makes no Downstream calls.
  virtual void disconnect(DisconnectReason reason) = 0;

  // websocket scopes: one whole client message (websocket.receive); its
  // payload counts against request_window() like a body chunk.
  virtual void send_message(bool text, std::string_view payload) {}
  // websocket scopes: websocket.disconnect with its close code and reason
  // (docs/protocol.md 3a); idempotent, and after it no Downstream calls.
  virtual void websocket_closed(std::uint16_t code, std::string_view reason) {
    disconnect(DisconnectReason::client_closed);
  }

  // For access logs and metrics: the pool serving the scope and the pid of
  // the worker running it (0 while queued or after the worker is gone).
  virtual std::string_view pool_name() const { return {}; }
  virtual int worker_pid() const { return 0; }
};

class ScopeOpener {
 public:
  virtual ~ScopeOpener() = default;
  // Opens the scope on a worker now, or queues it. Never null; errors arrive
  // through downstream->on_upstream_error (possibly before this returns
  // control to the event loop, never from inside this call).
  virtual std::unique_ptr<Upstream> open_scope(const ScopeRequest& request, std::weak_ptr<Downstream> downstream) = 0;
  // Whether the pool that would serve `request` (by its path) runs apps that
  // take scopes of `request.type` (hello.scopeTypes). A transport asks
  // before opening a websocket or sse scope and falls back to http.
  virtual bool supports(const ScopeRequest& request) { return true; }
  // Request body bytes the opening frame of `request` may carry (the first
  // body event rides with the open when the transport has it): the pool's
  // receive window, 0 for an expect_continue scope. 0 = send the body after
  // the open, within request_window().
  virtual std::size_t open_body_window(const ScopeRequest& request) { return 0; }
};

}  // namespace pagi::workers
