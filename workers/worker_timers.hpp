// Worker's timers (worker.hpp keeps them behind a pointer so its users need
// no Asio); shared by worker.cpp and worker_body_ring.cpp. Private to workers/.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "workers/worker.hpp"

namespace pagi::workers {

struct Worker::Timers {
  explicit Timers(boost::asio::io_context& io) : step(io), heartbeat(io), ring_trim(io) {}
  boost::asio::steady_timer step;  // startup timeout, or the current stop step
  boost::asio::steady_timer heartbeat;
  boost::asio::steady_timer ring_trim;  // armed when the body ring empties
  bool ring_trim_armed = false;
};

}  // namespace pagi::workers
