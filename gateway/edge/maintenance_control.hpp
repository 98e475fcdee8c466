// The admin endpoint's maintenance switch (docs/edge.md, docs/operations.md):
//   GET  /maintenance                          status
//   POST /maintenance?on=1|0[&pool=NAME][&close=1]
// Sans-I/O over a Maintenance, so the admin listener (gateway/admin) only
// routes to it and unit tests call it directly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pagi::gateway::edge {

class Maintenance;

struct MaintenanceCommand {
  bool change = false;     // POST: switch; GET: status only
  std::string_view on;     // "1"/"true"/"on" or "0"/"false"/"off"
  std::string_view pool;   // empty: the global switch
  std::string_view close;  // "1": also close the open WebSockets/SSE streams
};

struct MaintenanceReply {
  std::uint16_t status = 200;
  std::string body;  // JSON on success, a line of text on error
  bool json = true;
};

// `pools`: the names of the running pools (an unknown pool is a 404).
MaintenanceReply control_maintenance(Maintenance& maintenance, std::span<const std::string> pools,
                                     const MaintenanceCommand& command);

}  // namespace pagi::gateway::edge
