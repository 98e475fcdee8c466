#include "gateway/observability/metrics.hpp"

#include <charconv>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace pagi::gateway::observability {
namespace {

std::string_view method_label(std::string_view m) {
  // Bounded label values: whatever a client invents counts as OTHER.
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"})
    if (m == known) return known;
  return m.empty() ? "NONE" : "OTHER";
}

std::string_view status_class(std::uint16_t status) {
  if (status >= 100 && status < 200) return "1xx";
  if (status < 300 && status >= 200) return "2xx";
  if (status < 400 && status >= 300) return "3xx";
  if (status < 500 && status >= 400) return "4xx";
  if (status < 600 && status >= 500) return "5xx";
  return "none";
}

// Label values: \ " and newline escaped, per the exposition format.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Shortest text that reads back as the same double ("0.025", "3", "1e+21").
std::string num(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void help(std::string& out, std::string_view name, std::string_view type, std::string_view text) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += text;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += num(value);
  out += '\n';
}

std::vector<std::string_view> split_key(std::string_view key) {
  std::vector<std::string_view> parts;
  std::size_t at = 0;
  for (;;) {
    const auto nul = key.find('\0', at);
    parts.push_back(key.substr(at, nul == std::string_view::npos ? std::string_view::npos : nul - at));
    if (nul == std::string_view::npos) break;
    at = nul + 1;
  }
  return parts;
}

struct ProcessFacts {
  double cpu_seconds = 0;
  double start_time = 0;
  std::uint64_t rss = 0;
  std::uint64_t vsize = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t threads = 0;
};

ProcessFacts read_process_facts() {
  ProcessFacts f;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren != std::string::npos && ticks > 0) {
    std::istringstream in(text.substr(paren + 2));
    std::vector<std::string> fields;
    std::string field;
    while (in >> field) fields.push_back(field);
    // Fields after the name, counted from state (3): utime 14, stime 15,
    // num_threads 20, starttime 22, vsize 23, rss 24.
    auto at = [&](std::size_t n) -> double {
      return n - 3 < fields.size() ? std::strtod(fields[n - 3].c_str(), nullptr) : 0.0;
    };
    f.cpu_seconds = (at(14) + at(15)) / static_cast<double>(ticks);
    f.threads = static_cast<std::uint64_t>(at(20));
    f.vsize = static_cast<std::uint64_t>(at(23));
    f.rss = static_cast<std::uint64_t>(at(24)) * static_cast<std::uint64_t>(page);
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    const double now = static_cast<double>(std::time(nullptr));
    f.start_time = now - uptime + at(22) / static_cast<double>(ticks);
  }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++f.open_fds;
    ::closedir(d);
    if (f.open_fds) --f.open_fds;  // the directory stream itself
  }
  return f;
}

// One sample per reason; the `known` ones always, so a counter exists (at 0)
// before its first event and rate() sees the first one.
void by_reason(std::string& out, std::string_view name, std::string_view pool,
               const std::map<std::string, std::uint64_t, std::less<>>& counts,
               std::initializer_list<std::string_view> known) {
  std::map<std::string, std::uint64_t, std::less<>> all(counts);
  for (auto k : known) all.try_emplace(std::string(k), 0);
  for (const auto& [reason, n] : all)
    sample(out, name, "pool=\"" + label(pool) + "\",reason=\"" + label(reason) + "\"", static_cast<double>(n));
}

}  // namespace

std::uint64_t process_rss_bytes(int pid) {
  if (pid <= 0) return 0;
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

void Histogram::observe(double seconds) {
  ++count_;
  sum_ += seconds;
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (seconds <= bounds[i]) ++counts_[i];
}

void render_histogram(std::string& out, std::string_view name, std::string_view labels, std::span<const double> bounds,
                      std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum) {
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i)
    sample(out, bucket, prefix + "le=\"" + num(bounds[i]) + "\"", static_cast<double>(cumulative[i]));
  sample(out, bucket, prefix + "le=\"+Inf\"", static_cast<double>(count));
  sample(out, std::string(name) + "_sum", labels, sum);
  sample(out, std::string(name) + "_count", labels, static_cast<double>(count));
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  render_histogram(out, name, labels, bounds, counts_, count_, sum_);
}

Metrics::PerProtocol& Metrics::protocol(std::string_view name) {
  auto it = protocols_.find(name);
  if (it == protocols_.end()) it = protocols_.emplace(std::string(name), PerProtocol{}).first;
  return it->second;
}

void Metrics::on_connection_opened(std::string_view p) {
  auto& s = protocol(p);
  ++s.open;
  ++s.opened;
}

void Metrics::on_connection_closed(std::string_view p) { --protocol(p).open; }

template <class Map>
static auto& slot(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::string(key), typename Map::mapped_type{}).first;
  return it->second;
}

void Metrics::on_session_opened(std::string_view scope_type) {
  auto& s = slot(sessions_, scope_type);
  ++s.open;
  ++s.opened;
}

void Metrics::on_exchange_end(const ExchangeRecord& r) {
  if (r.scope_type != "http") {
    --slot(sessions_, r.scope_type).open;
    slot(session_durations_, r.scope_type).observe(static_cast<double>(r.duration().count()) / 1e6);
  }
  if (!last_.per_protocol || r.protocol != last_.protocol) {
    last_.protocol.assign(r.protocol);
    last_.per_protocol = &protocol(r.protocol);
  }
  last_.per_protocol->bytes_in += r.bytes_in;
  last_.per_protocol->bytes_out += r.bytes_out;
  const std::string_view pool = r.pool.empty() ? std::string_view("-") : std::string_view(r.pool);
  if (!last_.durations || pool != last_.pool) {
    last_.pool.assign(pool);
    last_.durations = &slot(durations_, pool);
    last_.upstream = nullptr;
    last_.requests = nullptr;
  }
  const std::string_view method = method_label(r.method);
  const std::string_view klass = status_class(r.status);
  if (!last_.requests || method != last_.method || klass != last_.status_class) {
    key_.assign(pool);
    key_ += '\0';
    key_ += method;
    key_ += '\0';
    key_ += klass;
    last_.requests = &slot(requests_, key_);
    last_.method = method;
    last_.status_class = klass;
  }
  ++*last_.requests;
  last_.durations->observe(static_cast<double>(r.duration().count()) / 1e6);
  if (!r.gateway_response && r.status) {
    if (!last_.upstream) last_.upstream = &slot(upstream_durations_, pool);
    last_.upstream->observe(static_cast<double>(r.upstream_time().count()) / 1e6);
  }
  if (r.gateway_response) {
    char status[8];
    std::snprintf(status, sizeof status, "%u", static_cast<unsigned>(r.status));
    ++slot(gateway_responses_, status);
  }
  if (!r.disconnect_reason.empty()) ++slot(disconnects_, r.disconnect_reason);
}

void Metrics::render(std::string& out, std::span<const PoolSnapshot> pools, bool ready,
                     std::uint64_t dropped_log_lines) const {
  help(out, "pagi_ready", "gauge", "1 when /readyz answers 200.");
  sample(out, "pagi_ready", "", ready ? 1 : 0);

  help(out, "pagi_requests_total", "counter", "Finished exchanges by pool, method and status class.");
  for (const auto& [key, count] : requests_) {
    const auto parts = split_key(key);
    sample(out, "pagi_requests_total",
           "pool=\"" + label(parts[0]) + "\",method=\"" + label(parts[1]) + "\",status=\"" + label(parts[2]) + "\"",
           static_cast<double>(count));
  }
  help(out, "pagi_request_duration_seconds", "histogram", "From request head to the last response byte, by pool.");
  for (const auto& [pool, h] : durations_)
    h.render(out, "pagi_request_duration_seconds", "pool=\"" + label(pool) + "\"");
  help(out, "pagi_upstream_duration_seconds", "histogram",
       "From opening the scope to the app's response head (queue wait included), by pool.");
  for (const auto& [pool, h] : upstream_durations_)
    h.render(out, "pagi_upstream_duration_seconds", "pool=\"" + label(pool) + "\"");
  help(out, "pagi_gateway_responses_total", "counter", "Responses the gateway generated itself, by status.");
  for (const auto& [status, count] : gateway_responses_)
    sample(out, "pagi_gateway_responses_total", "status=\"" + status + "\"", static_cast<double>(count));
  help(out, "pagi_disconnects_total", "counter", "Exchanges that ended abnormally, by PAGI disconnect reason.");
  for (const auto& [reason, count] : disconnects_)
    sample(out, "pagi_disconnects_total", "reason=\"" + label(reason) + "\"", static_cast<double>(count));

  help(out, "pagi_sessions_open", "gauge", "Open WebSocket and SSE sessions, by type.");
  for (std::string_view t : {"sse", "websocket"}) {
    const auto it = sessions_.find(t);
    sample(out, "pagi_sessions_open", "type=\"" + std::string(t) + "\"",
           it == sessions_.end() ? 0.0 : static_cast<double>(it->second.open));
  }
  help(out, "pagi_sessions_total", "counter", "WebSocket and SSE sessions opened, by type.");
  for (std::string_view t : {"sse", "websocket"}) {
    const auto it = sessions_.find(t);
    sample(out, "pagi_sessions_total", "type=\"" + std::string(t) + "\"",
           it == sessions_.end() ? 0.0 : static_cast<double>(it->second.opened));
  }
  help(out, "pagi_session_duration_seconds", "histogram", "Duration of finished WebSocket and SSE sessions, by type.");
  for (const auto& [type, h] : session_durations_)
    h.render(out, "pagi_session_duration_seconds", "type=\"" + label(type) + "\"");
  help(out, "pagi_connections_open", "gauge", "Open client connections by protocol.");
  for (const auto& [name, s] : protocols_)
    sample(out, "pagi_connections_open", "protocol=\"" + name + "\"", static_cast<double>(s.open));
  help(out, "pagi_connections_total", "counter", "Client connections accepted, by protocol.");
  for (const auto& [name, s] : protocols_)
    sample(out, "pagi_connections_total", "protocol=\"" + name + "\"", static_cast<double>(s.opened));
  help(out, "pagi_received_bytes_total", "counter", "Bytes read from clients, by protocol.");
  for (const auto& [name, s] : protocols_)
    sample(out, "pagi_received_bytes_total", "protocol=\"" + name + "\"", static_cast<double>(s.bytes_in));
  help(out, "pagi_sent_bytes_total", "counter", "Bytes written to clients, by protocol.");
  for (const auto& [name, s] : protocols_)
    sample(out, "pagi_sent_bytes_total", "protocol=\"" + name + "\"", static_cast<double>(s.bytes_out));

  help(out, "pagi_scopes_in_flight", "gauge", "Scopes running on workers, by pool.");
  for (const auto& p : pools)
    sample(out, "pagi_scopes_in_flight", "pool=\"" + label(p.name) + "\"", static_cast<double>(p.stats.in_flight));
  help(out, "pagi_streams_open", "gauge",
       "WebSocket and SSE scopes running on workers (stream slots), by pool; included in pagi_scopes_in_flight.");
  for (const auto& p : pools)
    sample(out, "pagi_streams_open", "pool=\"" + label(p.name) + "\"", static_cast<double>(p.stats.streams));
  help(out, "pagi_queue_depth", "gauge", "Scopes waiting for a free worker slot, by pool.");
  for (const auto& p : pools)
    sample(out, "pagi_queue_depth", "pool=\"" + label(p.name) + "\"", static_cast<double>(p.stats.queued));
  help(out, "pagi_workers", "gauge", "Workers by pool and life state.");
  for (const auto& p : pools) {
    std::map<std::string, std::size_t> by_state;
    for (const auto& w : p.workers) ++by_state[w.state];
    for (std::string_view s : {"spawning", "handshaking", "starting", "ready", "draining", "stopping"})
      by_state.try_emplace(std::string(s), 0);
    for (const auto& [state, n] : by_state)
      sample(out, "pagi_workers", "pool=\"" + label(p.name) + "\",state=\"" + state + "\"", static_cast<double>(n));
  }
  help(out, "pagi_workers_target", "gauge", "Configured worker count, by pool (moved by scale).");
  for (const auto& p : pools)
    sample(out, "pagi_workers_target", "pool=\"" + label(p.name) + "\"", static_cast<double>(p.stats.workers_target));
  help(out, "pagi_worker_restarts_total", "counter",
       "Workers replaced after a loss, by pool and reason (crash, heartbeat, protocol_error, startup_failed, "
       "startup_timeout).");
  for (const auto& p : pools)
    by_reason(out, "pagi_worker_restarts_total", p.name, p.stats.restarts_by_reason,
              {"crash", "heartbeat", "protocol_error", "startup_failed", "startup_timeout"});
  help(out, "pagi_worker_recycles_total", "counter",
       "Workers replaced on purpose, by pool and reason (max_requests, max_lifetime, max_rss, request_timeout, "
       "reload).");
  for (const auto& p : pools)
    by_reason(out, "pagi_worker_recycles_total", p.name, p.stats.recycles_by_reason,
              {"max_requests", "max_lifetime", "max_rss", "request_timeout", "reload"});
  help(out, "pagi_worker_heartbeat_misses_total", "counter",
       "Heartbeats a worker had not answered by the next one, by pool.");
  for (const auto& p : pools)
    sample(out, "pagi_worker_heartbeat_misses_total", "pool=\"" + label(p.name) + "\"",
           static_cast<double>(p.stats.heartbeat_misses));
  help(out, "pagi_queue_overflows_total", "counter",
       "Scopes refused with 503 because the pool's queue was full, by pool.");
  for (const auto& p : pools)
    sample(out, "pagi_queue_overflows_total", "pool=\"" + label(p.name) + "\"",
           static_cast<double>(p.stats.queue_overflows));
  help(out, "pagi_response_body_bytes_total", "counter",
       "Response body bytes from workers, by pool and the way they came: via=\"ring\" (the shared body ring) or "
       "via=\"socket\" (inline); files not counted.");
  for (const auto& p : pools) {
    sample(out, "pagi_response_body_bytes_total", "pool=\"" + label(p.name) + "\",via=\"ring\"",
           static_cast<double>(p.stats.body_bytes_ring));
    sample(out, "pagi_response_body_bytes_total", "pool=\"" + label(p.name) + "\",via=\"socket\"",
           static_cast<double>(p.stats.body_bytes_socket));
  }
  help(out, "pagi_queue_timeouts_total", "counter",
       "Scopes answered 503 after waiting queue_timeout for a worker, by pool.");
  for (const auto& p : pools)
    sample(out, "pagi_queue_timeouts_total", "pool=\"" + label(p.name) + "\"",
           static_cast<double>(p.stats.queue_timeouts));
  help(out, "pagi_queue_wait_seconds", "histogram",
       "Time scopes waited for a worker slot before dispatch (0 when none), by pool.");
  for (const auto& p : pools) {
    const auto& h = p.stats.queue_wait;
    render_histogram(out, "pagi_queue_wait_seconds", "pool=\"" + label(p.name) + "\"", h.bounds, h.buckets, h.count,
                     h.sum);
  }
  help(out, "pagi_pool_crash_loop", "gauge", "1 while the pool is reported crash-looping.");
  for (const auto& p : pools)
    sample(out, "pagi_pool_crash_loop", "pool=\"" + label(p.name) + "\"", p.stats.crash_loop ? 1 : 0);
  help(out, "pagi_pool_generation", "gauge", "Reloads applied to the pool.");
  for (const auto& p : pools)
    sample(out, "pagi_pool_generation", "pool=\"" + label(p.name) + "\"", static_cast<double>(p.stats.generation));
  help(out, "pagi_worker_resident_memory_bytes", "gauge", "Resident memory of each worker process.");
  for (const auto& p : pools)
    for (const auto& w : p.workers)
      sample(out, "pagi_worker_resident_memory_bytes",
             "pool=\"" + label(p.name) + "\",pid=\"" + std::to_string(w.pid) + "\"", static_cast<double>(w.rss_bytes));
  help(out, "pagi_worker_scopes_served_total", "counter", "Scopes opened on each worker.");
  for (const auto& p : pools)
    for (const auto& w : p.workers)
      sample(out, "pagi_worker_scopes_served_total",
             "pool=\"" + label(p.name) + "\",pid=\"" + std::to_string(w.pid) + "\"", static_cast<double>(w.served));

  help(out, "pagi_access_log_dropped_total", "counter",
       "Access log lines dropped because the destination did not keep up.");
  sample(out, "pagi_access_log_dropped_total", "", static_cast<double>(dropped_log_lines));

  const auto f = read_process_facts();
  help(out, "process_cpu_seconds_total", "counter", "User and system CPU time of the gateway process.");
  sample(out, "process_cpu_seconds_total", "", f.cpu_seconds);
  help(out, "process_resident_memory_bytes", "gauge", "Resident memory of the gateway process.");
  sample(out, "process_resident_memory_bytes", "", static_cast<double>(f.rss));
  help(out, "process_virtual_memory_bytes", "gauge", "Virtual memory of the gateway process.");
  sample(out, "process_virtual_memory_bytes", "", static_cast<double>(f.vsize));
  help(out, "process_open_fds", "gauge", "Open file descriptors of the gateway process.");
  sample(out, "process_open_fds", "", static_cast<double>(f.open_fds));
  help(out, "process_threads", "gauge", "Threads of the gateway process.");
  sample(out, "process_threads", "", static_cast<double>(f.threads));
  help(out, "process_start_time_seconds", "gauge", "Start time of the gateway process since the Unix epoch.");
  sample(out, "process_start_time_seconds", "", f.start_time);
}

}  // namespace pagi::gateway::observability
