#include "workers/downstream.hpp"

#include "protocol/frame_codec.hpp"

namespace pagi::workers {

void Downstream::on_response_body_shared(const protocol::SharedBytes& body, bool more) {
  on_response_body(body.view(), more);
}

}  // namespace pagi::workers
