// The connection state machine's legal transitions (connection.hpp).
#include "gateway/http1/connection.hpp"

namespace pagi::gateway::http1 {

std::string_view to_string(ConnectionState s) noexcept {
  switch (s) {
    case ConnectionState::idle: return "idle";
    case ConnectionState::reading_head: return "reading_head";
    case ConnectionState::exchange: return "exchange";
    case ConnectionState::closing: return "closing";
    case ConnectionState::closed: return "closed";
  }
  return "?";
}

bool is_legal_transition(ConnectionState from, ConnectionState to) noexcept {
  using S = ConnectionState;
  if (to == S::closed) return from != S::closed;
  switch (from) {
    case S::idle: return to == S::reading_head || to == S::exchange || to == S::closing;
    case S::reading_head: return to == S::exchange || to == S::closing;
    case S::exchange: return to == S::idle || to == S::closing;
    case S::closing:
    case S::closed: return false;
  }
  return false;
}

}  // namespace pagi::gateway::http1
