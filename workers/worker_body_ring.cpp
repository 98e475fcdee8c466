// Worker's side of its shared body ring (docs/protocol.md "3c"; the ring
// itself is body_ring.hpp): spans checked for the pool, release positions
// announced to the worker, and the gateway's view of an emptied ring's pages
// dropped after a quiet second.
#include <boost/asio/post.hpp>

#include "workers/body_ring.hpp"
#include "workers/worker.hpp"
#include "workers/worker_messages.hpp"
#include "workers/worker_timers.hpp"

namespace pagi::workers {

void Worker::use_body_ring(std::shared_ptr<BodyRing> ring) {
  body_ring_ = std::move(ring);
  // Releases come from client writes anywhere in the turn; the frame goes
  // out at its end, with the turn's credit.
  body_ring_->set_on_progress([weak = weak_from_this(), &io = io_] {
    boost::asio::post(io, [weak] {
      if (auto self = weak.lock()) self->announce_ring_release();
    });
  });
}

bool Worker::take_ring_span(std::uint64_t position, std::uint32_t length, protocol::SharedBytes& out,
                            const char*& why) {
  if (!body_ring_) {
    why = "body ring span from a worker without a ring";
    return false;
  }
  return body_ring_->take(position, length, out, why);
}

std::uint32_t Worker::body_ring_bytes() const { return body_ring_ ? body_ring_->size() : 0; }

void Worker::announce_ring_release() {
  if (!body_ring_ || !connection_ || life_ == WorkerLife::dead) return;
  const std::uint64_t through = body_ring_->take_announcement();
  if (through == 0) return;
  messages::append_body_ring_release(connection_->output(), through);
  connection_->flush();
  if (body_ring_->held() == 0) arm_ring_trim();
}

void Worker::append_credit(std::uint64_t scope, std::uint64_t bytes) {
  announce_ring_release();  // does nothing without a ring
  messages::append_credit(output(), scope, bytes);
}

// An emptied ring that stays unused for kRingTrimDelay gives the gateway's
// view of its pages back (BodyRing::trim_if_idle): an idle gateway's RSS
// holds no ring pages, and a busy one does not refault them per response.
void Worker::arm_ring_trim() {
  if (timers_->ring_trim_armed) return;
  body_ring_->trim_if_idle();  // starts the quiet period (a span was just taken)
  wait_ring_trim();
}

void Worker::wait_ring_trim() {
  timers_->ring_trim_armed = true;
  timers_->ring_trim.expires_after(kRingTrimDelay);
  timers_->ring_trim.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec || !self->body_ring_) return;
    self->timers_->ring_trim_armed = false;
    BodyRing& ring = *self->body_ring_;
    // Spans came and went meanwhile: the quiet period starts over.
    if (!ring.trim_if_idle() && !ring.trimmed() && ring.held() == 0) self->wait_ring_trim();
  });
}

}  // namespace pagi::workers
