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
};

class ScopeOpener {
 public:
  virtual ~ScopeOpener() = default;
  // Opens the scope on a worker now, or queues it. Never null; errors arrive
  // through downstream->on_upstream_error (possibly before this returns
  // control to the event loop, never from inside this call).
  virtual std::unique_ptr<Upstream> open_scope(const ScopeRequest& request,
                                               std::weak_ptr<Downstream> downstream) = 0;
};

}  // namespace pagi::workers
