#include "gateway/http1/response_head.hpp"

#include <charconv>

namespace pagi::gateway::http1 {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void append_status_line(std::string& out, std::uint16_t status) {
  out.append("HTTP/1.1 ");
  append_number(out, status);
  out.push_back(' ');
  out.append(reason_phrase(status)).append("\r\n");
}

}  // namespace

std::string_view reason_phrase(std::uint16_t status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: break;
  }
  if (status < 200) return "Informational";
  if (status < 300) return "Success";
  if (status < 400) return "Redirection";
  if (status < 500) return "Client Error";
  return "Server Error";
}

ResponsePlan write_response_head(std::string& out, const ResponseContext& ctx, std::uint16_t status,
                                 std::span<const workers::HeaderView> headers) {
  ResponsePlan plan;
  bool has_date = false, has_server = false, has_request_id = false, app_close = false;
  append_status_line(out, status);
  for (const auto& h : headers) {
    if (iequals(h.name, "transfer-encoding") || iequals(h.name, "keep-alive")) continue;
    if (iequals(h.name, "connection")) {
      app_close = app_close || has_token(h.value, "close");
      continue;
    }
    if (iequals(h.name, "content-length")) {
      std::uint64_t n = 0;
      const auto r = std::from_chars(h.value.data(), h.value.data() + h.value.size(), n);
      if (r.ec != std::errc{} || r.ptr != h.value.data() + h.value.size() || plan.content_length)
        continue;  // the pool validated it; a second or bad one is not repeated
      plan.content_length = n;
    }
    if (iequals(h.name, "date")) has_date = true;
    if (iequals(h.name, "server")) has_server = true;
    if (!ctx.request_id_header.empty() && iequals(h.name, ctx.request_id_header)) has_request_id = true;
    append_field(out, h.name, h.value);
  }

  const bool no_body = ctx.head_method || status < 200 || status == 204 || status == 304;
  const bool http11 = ctx.request_version >= 11;
  if (no_body)
    plan.framing = BodyFraming::none;
  else if (plan.content_length)
    plan.framing = BodyFraming::content_length;
  else if (http11)
    plan.framing = BodyFraming::chunked;
  else
    plan.framing = BodyFraming::close_delimited;

  plan.keep_alive = ctx.client_keep_alive && !ctx.must_close && !app_close &&
                    plan.framing != BodyFraming::close_delimited && (http11 || plan.content_length.has_value());

  if (plan.framing == BodyFraming::chunked) append_field(out, "transfer-encoding", "chunked");
  if (http11) {
    if (!plan.keep_alive) append_field(out, "connection", "close");
  } else {
    append_field(out, "connection", plan.keep_alive ? "keep-alive" : "close");
  }
  if (!has_date && !ctx.date.empty()) append_field(out, "date", ctx.date);
  if (!has_server && !ctx.server_header.empty()) append_field(out, "server", ctx.server_header);
  if (!has_request_id && !ctx.request_id_header.empty() && !ctx.request_id.empty())
    append_field(out, ctx.request_id_header, ctx.request_id);
  out.append("\r\n");
  return plan;
}

void append_chunk_header(std::string& out, std::uint64_t size) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, size, 16);
  out.append(buf, r.ptr).append("\r\n");
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;  // a zero-size chunk would end the body
  append_chunk_header(out, data.size());
  out.append(data).append("\r\n");
}

void append_last_chunk(std::string& out, std::span<const workers::HeaderView> trailers) {
  out.append("0\r\n");
  for (const auto& t : trailers) append_field(out, t.name, t.value);
  out.append("\r\n");
}

void write_server_response(std::string& out, const ResponseContext& ctx, std::uint16_t status, bool close,
                           std::uint32_t retry_after_seconds) {
  const auto reason = reason_phrase(status);
  append_status_line(out, status);
  append_field(out, "content-type", "text/plain; charset=utf-8");
  out.append("content-length: ");
  append_number(out, reason.size() + 1);
  out.append("\r\n");
  if (retry_after_seconds > 0) {
    out.append("retry-after: ");
    append_number(out, retry_after_seconds);
    out.append("\r\n");
  }
  const bool keep = !close && ctx.client_keep_alive && !ctx.must_close;
  if (ctx.request_version >= 11) {
    if (!keep) append_field(out, "connection", "close");
  } else {
    append_field(out, "connection", keep ? "keep-alive" : "close");
  }
  if (!ctx.date.empty()) append_field(out, "date", ctx.date);
  if (!ctx.server_header.empty()) append_field(out, "server", ctx.server_header);
  if (!ctx.request_id_header.empty() && !ctx.request_id.empty())
    append_field(out, ctx.request_id_header, ctx.request_id);
  out.append("\r\n");
  if (!ctx.head_method) out.append(reason).append("\n");
}

}  // namespace pagi::gateway::http1
