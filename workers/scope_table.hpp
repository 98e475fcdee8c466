// The pool's record of every scope it knows, keyed by scope id (which is
// also the id on the wire: pool-wide, increasing, so increasing per worker
// connection too). A record lives while either side still needs it: the
// transport holds the Upstream, or a worker still runs the scope.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "protocol/pagi.capnp.h"
#include "workers/downstream.hpp"
#include "workers/http_scope_flow.hpp"
#include "workers/stream_scope_flow.hpp"

namespace pagi::workers {

struct ScopeRecord {
  ScopeRecord(std::weak_ptr<Downstream> ds, HttpScopeFlow f) : downstream(std::move(ds)), flow(f) {}

  std::weak_ptr<Downstream> downstream;
  HttpScopeFlow flow;
  wire::ScopeType type = wire::ScopeType::HTTP;
  WsScopeFlow ws;               // websocket scopes: event order
  SseScopeFlow sse;             // sse scopes: event order
  std::uint32_t worker_id = 0;  // 0 while queued (or never dispatched)
  std::string open_frame;       // the encoded open, kept while queued
  bool expect_continue = false;
  bool request_body_open = false;  // more http.request chunks will follow
  bool upstream_alive = true;      // the transport still holds the Upstream
  bool worker_done = false;        // scopeEnd came, the worker was lost, or it never ran
  bool response_done = false;      // responseDone sent
  bool disconnected = false;       // httpDisconnect sent or error reported: no more Downstream calls
  bool credit_queued = false;      // in the pool's end-of-turn credit list
  std::size_t pending_credit = 0;  // response credit not yet sent to the worker

  bool finished() const { return response_done || disconnected; }
};

class ScopeTable {
 public:
  ScopeRecord& insert(std::uint64_t id, ScopeRecord record) {
    return records_.insert_or_assign(id, std::move(record)).first->second;
  }
  // Pointers stay valid until that record is erased (node-based map).
  ScopeRecord* find(std::uint64_t id) {
    auto it = records_.find(id);
    return it == records_.end() ? nullptr : &it->second;
  }
  // Drops the record once neither side needs it any more.
  void erase_if_unused(std::uint64_t id) {
    auto it = records_.find(id);
    if (it != records_.end() && !it->second.upstream_alive && it->second.worker_done) records_.erase(it);
  }
  std::size_t size() const { return records_.size(); }

 private:
  std::unordered_map<std::uint64_t, ScopeRecord> records_;
};

}  // namespace pagi::workers
