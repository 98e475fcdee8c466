#include "gateway/edge/maintenance_control.hpp"

#include <algorithm>
#include <optional>

#include <spdlog/spdlog.h>

#include "gateway/edge/maintenance.hpp"

namespace pagi::gateway::edge {
namespace {

std::optional<bool> flag(std::string_view v) {
  if (v == "1" || v == "true" || v == "on" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "off" || v == "no") return false;
  return std::nullopt;
}

MaintenanceReply error(std::uint16_t status, std::string text) { return {status, std::move(text) + "\n", false}; }

}  // namespace

MaintenanceReply control_maintenance(Maintenance& maintenance, std::span<const std::string> pools,
                                     const MaintenanceCommand& command) {
  std::size_t closed = 0;
  if (command.change) {
    const auto on = flag(command.on);
    if (!on) return error(400, "on must be 1 or 0: POST /maintenance?on=1[&pool=NAME][&close=1]");
    const auto close = command.close.empty() ? std::optional<bool>(false) : flag(command.close);
    if (!close) return error(400, "close must be 1 or 0");
    if (*close && !*on) return error(400, "close=1 only goes with on=1");
    if (!command.pool.empty() && std::find(pools.begin(), pools.end(), command.pool) == pools.end())
      return error(404, "no pool named \"" + std::string(command.pool) + "\"");
    if (command.pool.empty())
      maintenance.set_global(*on);
    else
      maintenance.set_pool(command.pool, *on);
    // (With close_streams in the config, switching on closed them already.)
    if (*close) closed = maintenance.close_streams(command.pool);
  }
  std::string body = maintenance.status_json();
  if (command.change) body.insert(body.size() - 1, ",\"closed_streams\":" + std::to_string(closed));
  return {200, body + "\n", true};
}

}  // namespace pagi::gateway::edge
