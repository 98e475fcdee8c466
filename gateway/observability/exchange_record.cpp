#include "gateway/observability/exchange_record.hpp"

#include <strings.h>

namespace pagi::gateway::observability {

void HeaderStore::add(std::string_view name, std::string_view value) {
  Field f{};
  f.name_at = static_cast<std::uint32_t>(bytes_.size());
  f.name_len = static_cast<std::uint32_t>(name.size());
  bytes_.append(name);
  f.value_at = static_cast<std::uint32_t>(bytes_.size());
  f.value_len = static_cast<std::uint32_t>(value.size());
  bytes_.append(value);
  fields_.push_back(f);
}

std::string_view HeaderStore::name(std::size_t i) const {
  return std::string_view(bytes_).substr(fields_[i].name_at, fields_[i].name_len);
}

std::string_view HeaderStore::value(std::size_t i) const {
  return std::string_view(bytes_).substr(fields_[i].value_at, fields_[i].value_len);
}

bool HeaderStore::find(std::string_view wanted, std::string_view& value_out) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const auto n = name(i);
    if (n.size() == wanted.size() && ::strncasecmp(n.data(), wanted.data(), n.size()) == 0) {
      value_out = value(i);
      return true;
    }
  }
  return false;
}

void ExchangeRecord::clear() {
  protocol = "http1";
  scope_type = "http";
  client_host.clear();
  client_port = 0;
  method.clear();
  raw_path.clear();
  query.clear();
  http_version.clear();
  request_headers.clear();
  request_id.clear();
  status = 0;
  gateway_response = false;
  response_headers.clear();
  bytes_in = bytes_out = head_bytes_out = 0;
  pool.clear();
  worker_pid = 0;
  disconnect_reason = {};
  close_code = 0;
  started_wall = {};
  started = response_started = ended = {};
}

}  // namespace pagi::gateway::observability
