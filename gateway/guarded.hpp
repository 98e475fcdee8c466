// Runs one step of an Asio completion handler (or a call from the worker
// pool) so that no exception leaves it: an exception escaping a handler
// unwinds through io_context::run and takes the whole event loop (and every
// connection on it) down. Used by the HTTP/1 connection and write pump, the
// HTTP/2 connection and the WebSocket session (STYLE.md "avoid"): the error
// is logged as "<who>: <what>" and `on_error` closes that one connection.
#pragma once

#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

namespace pagi::gateway {

template <class F, class OnError>
void guarded(const char* who, F&& f, OnError&& on_error) {
  try {
    std::forward<F>(f)();
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", who, e.what());
    std::forward<OnError>(on_error)();
  }
}

}  // namespace pagi::gateway
