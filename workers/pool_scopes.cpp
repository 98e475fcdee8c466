// The conversation of each scope, both directions: a transport's calls
// (open, body, credit, done, disconnect) become frames to the scope's
// worker; a worker's events are checked against the scope's state
// (HttpScopeFlow) and become Downstream calls.
//
// Re-entrancy: a Downstream call may call back into the pool (write credit,
// destroy its Upstream, open the next pipelined scope). So every handler
// updates the record first and makes the Downstream call last, and never
// touches the record afterwards.
#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "workers/capnp_views.hpp"
#include "workers/pool_core.hpp"
#include "workers/stream_messages.hpp"
#include "workers/worker_messages.hpp"

namespace pagi::workers {

namespace asio = boost::asio;

namespace {
// Smaller bodies are copied (they join the response head in one buffer);
// larger ones are handed over as SharedBytes of the worker's read chunk.
constexpr std::size_t kShareBodyMin = 4096;
}  // namespace

// ---- transport -> pool ---------------------------------------------------------

std::unique_ptr<Upstream> PoolCore::open_scope(const ScopeRequest& request, std::weak_ptr<Downstream> downstream) {
  const std::uint64_t id = allocate_scope_id();
  const std::size_t first_window =
      request.expect_continue
          ? 0
          : settings_.receive_window -
                std::min<std::size_t>(settings_.receive_window, request.has_body ? request.body.size() : 0);
  ScopeRecord& record = scopes_.insert(
      id,
      ScopeRecord(std::move(downstream), HttpScopeFlow(settings_.send_window, settings_.receive_window, first_window)));
  record.expect_continue = request.expect_continue;
  record.type = request.type;
  record.request_body_open = !request.has_body || request.more;
  auto upstream = make_pool_upstream(weak_from_this(), id);

  if (state_ == PoolState::stopping || state_ == PoolState::stopped) {
    post_fail_scope(id, UpstreamError::shutting_down);
    return upstream;
  }
  if (state_ == PoolState::failed || state_ == PoolState::idle || (crash_loop_ && !has_accepting_worker()) ||
      (attached() && !has_live_worker())) {
    post_fail_scope(id, UpstreamError::pool_failed);
    return upstream;
  }
  if (request.type == wire::ScopeType::HTTP) track_request_deadline(id);
  // FIFO per slot kind: nobody overtakes a waiting scope of its kind.
  const SlotKind kind = slot_kind(request);
  if (queue_.empty(kind)) {
    if (Worker* worker = pick_worker(kind)) {
      queue_wait_.observe(0);  // no wait; no clock read either
      dispatch(id, record, *worker, &request, kind);
      return upstream;
    }
  }
  if (!queue_.push(id, Clock::now(), kind)) {
    spdlog::warn("{}: queue full ({} scopes waiting)", describe(), queue_.size());
    ++queue_overflows_;
    post_fail_scope(id, UpstreamError::queue_full);
    return upstream;
  }
  messages::append_open(record.open_frame, id, request);
  arm_queue_timer();
  return upstream;
}

void PoolCore::dispatch(std::uint64_t id, ScopeRecord& record, Worker& worker, const ScopeRequest* request,
                        SlotKind kind) {
  record.worker_id = worker.id();
  worker.add_scope(id, kind);
  if (request != nullptr) {
    messages::append_open(worker.output(), id, *request);
  } else {
    worker.output().append(record.open_frame);
    std::string().swap(record.open_frame);
  }
  if (record.type == wire::ScopeType::WEBSOCKET) messages::append_websocket_connect(worker.output(), id);
  worker.flush();
  if (auto reason = RecyclePolicy::after_scope(worker.recycle, worker.scopes_opened())) {
    begin_recycle(worker, *reason);
  }
}

std::size_t PoolCore::request_window(std::uint64_t id) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr || record->worker_id == 0 || record->finished() || record->worker_done) return 0;
  return record->flow.request_window();
}

void PoolCore::send_body(std::uint64_t id, std::string_view chunk, bool more) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr || record->finished() || record->worker_done || !record->request_body_open) return;
  Worker* worker = find_worker(record->worker_id);
  if (worker == nullptr || !worker->holds_scope(id)) return;
  if (chunk.size() > record->flow.request_window()) {
    spdlog::debug("{}: scope {} body chunk of {} beyond its window {}", describe(), id, chunk.size(),
                  record->flow.request_window());
  }
  record->flow.on_request_sent(chunk.size());
  record->request_body_open = more;
  if (record->type == wire::ScopeType::SSE)
    messages::append_sse_request(worker->output(), id, chunk, more);
  else
    messages::append_http_request(worker->output(), id, chunk, more);
  worker->flush();
}

void PoolCore::response_written(std::uint64_t id, std::size_t bytes) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr || record->worker_done) return;
  const std::size_t credit = record->flow.on_response_written(bytes);
  if (credit == 0) return;
  record->pending_credit += credit;
  queue_credit(id, *record);
}

// Response credit is batched (docs/protocol.md "Credit batching"): a credit
// frame wakes the worker, so small credits wait until they reach a quarter of
// the send window or until everything the worker sent has been written. The
// second rule is what rules out a stall: a worker waits only with bytes in
// flight, and those bytes, once written, always release their credit.
bool PoolCore::credit_due(const ScopeRecord& record) const {
  if (record.pending_credit == 0) return false;
  // A complete HTTP response sends no more body: credit would wake the worker
  // for nothing (a responseDone still carries it, see response_done).
  if (record.type == wire::ScopeType::HTTP && record.flow.phase() == ResponsePhase::complete) return false;
  const std::size_t threshold = std::max<std::size_t>(1, settings_.send_window / 4);
  return record.pending_credit >= threshold || record.flow.response_in_flight() == 0;
}

void PoolCore::queue_credit(std::uint64_t id, ScopeRecord& record) {
  if (record.credit_queued) return;
  record.credit_queued = true;
  credit_dirty_.push_back(id);
  if (credit_flush_posted_) return;
  credit_flush_posted_ = true;
  // Credit from one loop turn goes out as one frame per scope.
  asio::post(io_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->flush_credits();
  });
}

void PoolCore::flush_credits() {
  credit_flush_posted_ = false;
  std::vector<std::uint64_t> dirty;
  dirty.swap(credit_dirty_);
  for (std::uint64_t id : dirty) {
    ScopeRecord* record = scopes_.find(id);
    if (record == nullptr) continue;
    record->credit_queued = false;
    if (!credit_due(*record)) continue;  // stays in pending_credit
    const std::size_t credit = record->pending_credit;
    record->pending_credit = 0;
    Worker* worker = find_worker(record->worker_id);
    if (worker == nullptr || !worker->holds_scope(id)) continue;
    worker->append_credit(id, credit);
    worker->flush();
  }
}

void PoolCore::response_done(std::uint64_t id) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr || record->finished()) return;
  record->response_done = true;
  Worker* worker = find_worker(record->worker_id);
  // Sent even after the app's scopeEnd: the SDK keeps the scope (for
  // on_complete) until it hears responseDone or httpDisconnect.
  if (worker == nullptr || worker->life() == WorkerLife::dead) return;
  // A worker that opted out in its hello (ASGI, WSGI) learns nothing from it;
  // its withheld credit is moot too, the response is complete.
  if (worker->skip_response_done()) return;
  // Withheld credit first, so the worker sees the window close cleanly.
  if (record->pending_credit > 0) {
    worker->append_credit(id, record->pending_credit);
    record->pending_credit = 0;
  }
  messages::append_response_done(worker->output(), id);
  worker->flush();
}

void PoolCore::disconnect(std::uint64_t id, DisconnectReason reason) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr || record->disconnected) return;
  record->disconnected = true;
  if (record->worker_id == 0) {  // still queued: the app never saw it
    queue_.remove(id);
    record->worker_done = true;
    return;
  }
  Worker* worker = find_worker(record->worker_id);
  if (worker == nullptr || worker->life() == WorkerLife::dead) return;  // see response_done
  append_disconnect(*worker, id, *record, reason);
  worker->flush();
}

void PoolCore::upstream_released(std::uint64_t id) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr) return;
  if (!record->finished()) disconnect(id, DisconnectReason::server_error);
  record = scopes_.find(id);
  if (record == nullptr) return;
  record->upstream_alive = false;
  scopes_.erase_if_unused(id);
}

void PoolCore::fail_scope(std::uint64_t id, UpstreamError error) {
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr) return;
  if (record->worker_id == 0) record->worker_done = true;  // it never reached a worker
  if (record->disconnected) {
    scopes_.erase_if_unused(id);
    return;
  }
  record->disconnected = true;
  std::shared_ptr<Downstream> ds = record->downstream.lock();
  scopes_.erase_if_unused(id);
  if (ds) ds->on_upstream_error(error);
}

void PoolCore::post_fail_scope(std::uint64_t id, UpstreamError error) {
  if (ScopeRecord* record = scopes_.find(id)) record->worker_done = true;
  asio::post(io_, [weak = weak_from_this(), id, error] {
    if (auto self = weak.lock()) self->fail_scope(id, error);
  });
}

void PoolCore::release_worker_scopes(Worker& worker, UpstreamError error) {
  const std::vector<std::uint64_t> ids(worker.scopes().begin(), worker.scopes().end());
  for (std::uint64_t id : ids) {
    worker.remove_scope(id);
    if (ScopeRecord* record = scopes_.find(id)) record->worker_done = true;
    fail_scope(id, error);
  }
}

// ---- worker -> pool ------------------------------------------------------------

void PoolCore::on_worker_scope_message(Worker& worker, const protocol::Frame& frame) {
  const wire::Envelope::Reader message = frame.root();
  const std::uint64_t id = message.getScope();
  if (!worker.ever_opened(id)) {
    worker.fail(fmt::format("message for scope {} that was never opened", id));
    return;
  }
  protocol::SharedBytes span;
  if (!take_ring_span(worker, id, message, span)) return;
  if (!worker.holds_scope(id)) return;  // finished; may have crossed in flight
  ScopeRecord* record = scopes_.find(id);
  if (record == nullptr) {
    worker.remove_scope(id);
    return;
  }
  if (message.which() == wire::Envelope::SCOPE_END) {
    on_scope_end(worker, id, message.getScopeEnd());
    return;
  }
  on_scope_event(worker, id, *record, frame, span);
}

bool PoolCore::take_ring_span(Worker& worker, std::uint64_t id, wire::Envelope::Reader message,
                              protocol::SharedBytes& span) {
  if (message.which() != wire::Envelope::HTTP_RESPONSE_BODY) return true;
  const auto body = message.getHttpResponseBody();
  const std::uint32_t length = body.getRingLength();
  if (length == 0) return true;
  const char* why = nullptr;
  if (worker.take_ring_span(body.getRingPosition(), length, span, why)) return true;
  worker.fail(fmt::format("scope {}: {}", id, why));
  return false;
}

void PoolCore::on_scope_end(Worker& worker, std::uint64_t id, wire::ScopeEnd::Reader end) {
  worker.remove_scope(id);
  ScopeRecord* record = scopes_.find(id);
  const bool failed = end.getFailed();
  if (failed) {
    spdlog::error("{} worker={} pid={}: scope {} failed: {}", describe(), worker.id(), worker.pid(), id,
                  view(end.getMessage()));
  }
  std::shared_ptr<Downstream> ds;
  if (record != nullptr) {
    record->worker_done = true;
    if (!record->disconnected) ds = record->downstream.lock();
    scopes_.erase_if_unused(id);
  }
  if (ds) ds->on_app_done(failed);
  // A draining worker (stop, recycle, reload) goes once its last scope ended.
  if (worker.life() == WorkerLife::draining && worker.in_flight() == 0) worker.stop();
  dispatch_queued();
}

void PoolCore::on_scope_event(Worker& worker, std::uint64_t id, ScopeRecord& record, const protocol::Frame& frame,
                              const protocol::SharedBytes& span) {
  const wire::Envelope::Reader message = frame.root();
  if (record.finished()) return;  // after responseDone/httpDisconnect only scopeEnd matters
  std::shared_ptr<Downstream> ds = record.downstream.lock();
  if (!ds) {
    // The transport is gone without saying so: tell the app, ignore the rest.
    record.disconnected = true;
    append_disconnect(worker, id, record, DisconnectReason::server_error);
    worker.flush();
    return;
  }
  if (record.type != wire::ScopeType::HTTP) {
    on_stream_scope_event(worker, id, record, message);
    return;
  }
  ScopeEventError error = ScopeEventError::ok;
  switch (message.which()) {
    case wire::Envelope::HTTP_RESPONSE_START: {
      const auto start = message.getHttpResponseStart();
      error = record.flow.on_start(start.getTrailers());
      if (error != ScopeEventError::ok) break;
      to_header_views(start.getHeaders(), header_scratch_);
      ds->on_response_start(start.getStatus(), header_scratch_, start.getTrailers());
      return;
    }
    case wire::Envelope::HTTP_RESPONSE_BODY: {
      const auto body = message.getHttpResponseBody();
      const std::string_view file = view(body.getFile());
      const std::string_view bytes = view(body.getBody());
      if (const std::uint32_t ring_length = body.getRingLength(); ring_length > 0) {
        // The body is in the worker's shared ring (docs/protocol.md "3c"),
        // taken when the message came in.
        error = record.flow.on_body(ring_length, body.getMore(), false);
        if (error != ScopeEventError::ok) break;
        body_bytes_ring_ += ring_length;
        ds->on_response_body_shared(span, body.getMore());
        return;
      }
      error = record.flow.on_body(file.empty() ? bytes.size() : 0, body.getMore(), !file.empty());
      if (error != ScopeEventError::ok) break;
      body_bytes_socket_ += bytes.size();
      if (!file.empty()) {
        ds->on_response_file(file, body.getOffset(), body.getLength());
      } else if (bytes.size() >= kShareBodyMin) {
        // The transport may queue the body without copying it: it shares
        // the worker's read chunk (docs/architecture.md "Flow control").
        ds->on_response_body_shared(frame.share(bytes), body.getMore());
      } else {
        ds->on_response_body(bytes, body.getMore());
      }
      return;
    }
    case wire::Envelope::HTTP_RESPONSE_TRAILERS:
      error = record.flow.on_trailers();
      if (error != ScopeEventError::ok) break;
      to_header_views(message.getHttpResponseTrailers().getHeaders(), header_scratch_);
      ds->on_response_trailers(header_scratch_);
      return;
    case wire::Envelope::HTTP_FULLFLUSH:
      error = record.flow.on_flush();
      if (error != ScopeEventError::ok) break;
      ds->on_flush();
      return;
    case wire::Envelope::HTTP_RESPONSE_EARLY_HINT:
      error = record.flow.on_early_hint();
      if (error != ScopeEventError::ok) break;
      to_header_views(message.getHttpResponseEarlyHint().getHeaders(), header_scratch_);
      ds->on_response_early_hint(header_scratch_);
      return;
    case wire::Envelope::CREDIT:
      record.flow.on_request_credit(message.getCredit().getBytes());
      ds->on_request_credit();
      return;
    default:
      // websocket/sse/lifespan events on an http scope.
      error = ScopeEventError::wrong_scope_type;
      break;
  }
  worker.fail(fmt::format("scope {}: {}", id, to_string(error)));
}

}  // namespace pagi::workers
