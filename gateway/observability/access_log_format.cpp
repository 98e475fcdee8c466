#include "gateway/observability/access_log_format.hpp"

#include <ctime>
#include <stdexcept>

#include "gateway/observability/text_escape.hpp"

namespace pagi::gateway::observability {
namespace {

constexpr std::string_view common_format = "%h %l %u %t \"%r\" %s %b";
constexpr std::string_view combined_format = "%h %l %u %t \"%r\" %s %b \"%{referer}i\" \"%{user-agent}i\"";
constexpr std::string_view tiny_format = "%m %U%q %s %b - %{ms}T ms";

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  out.append(p, buf + sizeof buf);
}

// Microseconds as "12.345" (the unit's thousandths).
void append_thousandths(std::string& out, std::uint64_t thousandths) {
  append_number(out, thousandths / 1000);
  out += '.';
  const auto frac = thousandths % 1000;
  out += static_cast<char>('0' + frac / 100);
  out += static_cast<char>('0' + frac / 10 % 10);
  out += static_cast<char>('0' + frac % 10);
}

std::tm utc_of(ExchangeRecord::WallClock::time_point t) {
  const std::time_t secs = ExchangeRecord::WallClock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  return tm;
}

std::string_view protocol_text(const ExchangeRecord& r) {
  if (r.http_version == "1.0") return "HTTP/1.0";
  if (r.http_version == "2") return "HTTP/2.0";
  if (r.http_version.empty()) return "-";
  return "HTTP/1.1";
}

void append_or_dash(std::string& out, std::string_view v) {
  if (v.empty())
    out += '-';
  else
    append_text_escaped(out, v);
}

}  // namespace

void append_clf_time(std::string& out, ExchangeRecord::WallClock::time_point t) {
  const std::tm tm = utc_of(t);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
  out.append(buf, n);
}

void append_iso_time(std::string& out, ExchangeRecord::WallClock::time_point t) {
  const std::tm tm = utc_of(t);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
}

AccessLogFormat AccessLogFormat::compile(std::string_view spec) {
  AccessLogFormat f;
  if (spec == "json") {
    f.json_ = true;
    return f;
  }
  if (spec == "common")
    spec = common_format;
  else if (spec == "combined")
    spec = combined_format;
  else if (spec == "tiny")
    spec = tiny_format;
  if (spec.empty()) throw std::invalid_argument("empty access log format");

  auto literal = [&](std::string_view text) {
    if (!f.parts_.empty() && f.parts_.back().atom == Atom::literal)
      f.parts_.back().text.append(text);
    else
      f.parts_.push_back({Atom::literal, std::string(text)});
  };
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%') {
      literal(spec.substr(i, 1));
      continue;
    }
    if (++i >= spec.size()) throw std::invalid_argument("access log format ends with a lone %");
    std::string arg;
    if (spec[i] == '{') {
      const auto close = spec.find('}', i);
      if (close == std::string_view::npos) throw std::invalid_argument("access log format: unclosed %{");
      arg = std::string(spec.substr(i + 1, close - i - 1));
      i = close + 1;
      if (i >= spec.size()) throw std::invalid_argument("access log format: %{" + arg + "} needs a letter after it");
    }
    const char c = spec[i];
    auto bad = [&] {
      return std::invalid_argument("access log format: unknown atom %" + (arg.empty() ? "" : "{" + arg + "}") +
                                   std::string(1, c));
    };
    Atom atom;
    switch (c) {
      case '%': literal("%"); continue;
      case 'h': atom = Atom::client; break;
      case 'l':
      case 'u': atom = Atom::dash; break;
      case 't':
        if (arg.empty())
          atom = Atom::clf_time;
        else if (arg == "iso")
          atom = Atom::iso_time;
        else
          throw bad();
        break;
      case 'r': atom = Atom::request_line; break;
      case 'm': atom = Atom::method; break;
      case 'U': atom = Atom::path; break;
      case 'q': atom = Atom::query; break;
      case 'H': atom = Atom::protocol; break;
      case 's': atom = Atom::status; break;
      case 'b': atom = Atom::body_bytes_clf; break;
      case 'B': atom = Atom::body_bytes; break;
      case 'O': atom = Atom::bytes_out; break;
      case 'I': atom = Atom::bytes_in; break;
      case 'D': atom = Atom::duration_us; break;
      case 'T':
        if (arg.empty() || arg == "s")
          atom = Atom::duration_s;
        else if (arg == "ms")
          atom = Atom::duration_ms;
        else if (arg == "us")
          atom = Atom::duration_us;
        else
          throw bad();
        break;
      case 'i':
      case 'o':
        if (arg.empty())
          throw std::invalid_argument(std::string("access log format: %") + c + " needs a header name: %{name}" + c);
        atom = c == 'i' ? Atom::request_header : Atom::response_header;
        break;
      case 'R': atom = Atom::request_id; break;
      case 'P': atom = Atom::worker_pid; break;
      case 'x':
        if (arg == "request_id")
          atom = Atom::request_id;
        else if (arg == "pool")
          atom = Atom::pool;
        else if (arg == "worker_pid")
          atom = Atom::worker_pid;
        else if (arg == "scope")
          atom = Atom::scope;
        else if (arg == "disconnect")
          atom = Atom::disconnect;
        else if (arg == "upstream_ms")
          atom = Atom::upstream_ms;
        else if (arg == "upstream_us")
          atom = Atom::upstream_us;
        else if (arg == "gateway")
          atom = Atom::gateway;
        else if (arg == "close_code")
          atom = Atom::close_code;
        else
          throw bad();
        break;
      default: throw bad();
    }
    f.parts_.push_back({atom, arg});
  }
  return f;
}

bool AccessLogFormat::uses_headers() const {
  if (json_) return true;
  for (const auto& part : parts_)
    if (part.atom == Atom::request_header || part.atom == Atom::response_header) return true;
  return false;
}

void AccessLogFormat::render(const ExchangeRecord& r, std::string& out) const {
  if (json_) return render_json(r, out);
  for (const auto& part : parts_) {
    switch (part.atom) {
      case Atom::literal: out += part.text; break;
      case Atom::client: append_or_dash(out, r.client_host); break;
      case Atom::dash: out += '-'; break;
      case Atom::clf_time: append_clf_time(out, r.started_wall); break;
      case Atom::iso_time: append_iso_time(out, r.started_wall); break;
      case Atom::request_line:
        if (r.method.empty()) {
          out += '-';
          break;
        }
        append_text_escaped(out, r.method);
        out += ' ';
        append_text_escaped(out, r.raw_path);
        if (!r.query.empty()) {
          out += '?';
          append_text_escaped(out, r.query);
        }
        out += ' ';
        out += protocol_text(r);
        break;
      case Atom::method: append_or_dash(out, r.method); break;
      case Atom::path: append_or_dash(out, r.raw_path); break;
      case Atom::query:
        if (!r.query.empty()) {
          out += '?';
          append_text_escaped(out, r.query);
        }
        break;
      case Atom::protocol: out += protocol_text(r); break;
      case Atom::status:
        if (r.status)
          append_number(out, r.status);
        else
          out += '-';
        break;
      case Atom::body_bytes_clf:
        if (r.body_bytes_out())
          append_number(out, r.body_bytes_out());
        else
          out += '-';
        break;
      case Atom::body_bytes: append_number(out, r.body_bytes_out()); break;
      case Atom::bytes_out: append_number(out, r.bytes_out); break;
      case Atom::bytes_in: append_number(out, r.bytes_in); break;
      case Atom::duration_us: append_number(out, static_cast<std::uint64_t>(r.duration().count())); break;
      case Atom::duration_s: append_thousandths(out, static_cast<std::uint64_t>(r.duration().count()) / 1000); break;
      case Atom::duration_ms: append_thousandths(out, static_cast<std::uint64_t>(r.duration().count())); break;
      case Atom::request_header:
      case Atom::response_header: {
        std::string_view v;
        const auto& store = part.atom == Atom::request_header ? r.request_headers : r.response_headers;
        if (store.find(part.text, v))
          append_or_dash(out, v);
        else
          out += '-';
        break;
      }
      case Atom::request_id: append_or_dash(out, r.request_id); break;
      case Atom::pool: append_or_dash(out, r.pool); break;
      case Atom::worker_pid:
        if (r.worker_pid > 0)
          append_number(out, static_cast<std::uint64_t>(r.worker_pid));
        else
          out += '-';
        break;
      case Atom::scope: out += r.scope_type; break;
      case Atom::disconnect: append_or_dash(out, r.disconnect_reason); break;
      case Atom::upstream_ms: append_thousandths(out, static_cast<std::uint64_t>(r.upstream_time().count())); break;
      case Atom::upstream_us: append_number(out, static_cast<std::uint64_t>(r.upstream_time().count())); break;
      case Atom::gateway: out += r.gateway_response ? '1' : '0'; break;
      case Atom::close_code:
        if (r.close_code)
          append_number(out, r.close_code);
        else
          out += '-';
        break;
    }
  }
  out += '\n';
}

// Stable field names: add new ones at the end, never rename.
void AccessLogFormat::render_json(const ExchangeRecord& r, std::string& out) const {
  auto key = [&](std::string_view name) {
    out += out.back() == '{' ? "\"" : ",\"";
    out += name;
    out += "\":";
  };
  auto str = [&](std::string_view name, std::string_view value) {
    key(name);
    append_json_string(out, value);
  };
  auto str_or_null = [&](std::string_view name, std::string_view value) {
    key(name);
    if (value.empty())
      out += "null";
    else
      append_json_string(out, value);
  };
  auto num = [&](std::string_view name, std::uint64_t value) {
    key(name);
    append_number(out, value);
  };
  auto header = [&](std::string_view name, const HeaderStore& store, std::string_view field) {
    std::string_view v;
    key(name);
    if (store.find(field, v))
      append_json_string(out, v);
    else
      out += "null";
  };
  out += '{';
  key("time");
  out += '"';
  append_iso_time(out, r.started_wall);
  out += '"';
  str_or_null("client", r.client_host);
  num("client_port", r.client_port);
  str_or_null("method", r.method);
  str_or_null("path", r.raw_path);
  str("query", r.query);
  str("protocol", protocol_text(r));
  num("status", r.status);
  num("bytes_out", r.bytes_out);
  num("body_bytes", r.body_bytes_out());
  num("bytes_in", r.bytes_in);
  key("duration_ms");
  append_thousandths(out, static_cast<std::uint64_t>(r.duration().count()));
  key("upstream_ms");
  append_thousandths(out, static_cast<std::uint64_t>(r.upstream_time().count()));
  str_or_null("request_id", r.request_id);
  str_or_null("pool", r.pool);
  key("worker_pid");
  if (r.worker_pid > 0)
    append_number(out, static_cast<std::uint64_t>(r.worker_pid));
  else
    out += "null";
  str("scope", r.scope_type);
  str("transport", r.protocol);
  str_or_null("disconnect", r.disconnect_reason);
  key("gateway_response");
  out += r.gateway_response ? "true" : "false";
  header("referer", r.request_headers, "referer");
  header("user_agent", r.request_headers, "user-agent");
  header("traceparent", r.request_headers, "traceparent");
  key("close_code");
  if (r.close_code)
    append_number(out, r.close_code);
  else
    out += "null";
  out += "}\n";
}

}  // namespace pagi::gateway::observability
