// The pool's timers, shared by the .cpp files of PoolCore only (kept out of
// pool_core.hpp so its users need no Asio timer headers).
#pragma once

#include <list>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "workers/pool_core.hpp"

namespace pagi::workers {

namespace asio = boost::asio;

struct PoolCore::Timers {
  explicit Timers(asio::io_context& io) : queue(io), stop(io), check(io), request(io), cancel(io) {}
  asio::steady_timer queue;                // one timer for the whole queue: its oldest entry
  asio::steady_timer stop;                 // in-flight deadline of a graceful stop
  asio::steady_timer check;                // lifetime and memory checks (check_interval)
  asio::steady_timer request;              // oldest request_timeout deadline
  asio::steady_timer cancel;               // oldest cancel_grace deadline
  std::list<asio::steady_timer> restarts;  // one per pending replacement (rare)
};

}  // namespace pagi::workers
