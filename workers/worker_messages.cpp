#include "workers/worker_messages.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <capnp/message.h>

#include "protocol/frame_codec.hpp"
#include "workers/message_builder.hpp"

namespace pagi::workers::messages {
using namespace detail;

void append_welcome(std::string& out, const PoolSettings& settings, std::uint32_t worker_id,
                    std::uint32_t body_ring_bytes) {
  build(out, 0, words_for(settings.name.size()), [&](wire::Envelope::Builder env) {
    auto w = env.initWelcome();
    w.setProtocolVersion(wire::PROTOCOL_VERSION);
    w.setWorkerId(worker_id);
    w.setSendWindow(settings.send_window);
    w.setReceiveWindow(settings.receive_window);
    const double ms = std::chrono::duration<double, std::milli>(settings.heartbeat_interval).count();
    w.setHeartbeatIntervalMs(
        static_cast<std::uint32_t>(std::clamp(ms, 0.0, double(std::numeric_limits<std::uint32_t>::max()))));
    w.setLifespan(settings.lifespan);
    w.setMaxMessageBytes(settings.max_message_bytes);
    w.setBodyRingBytes(body_ring_bytes);
    copy_text(settings.name, [&](unsigned n) { return w.initPool(n); });
  });
}

void append_open(std::string& out, std::uint64_t scope, const ScopeRequest& r) {
  std::size_t words = words_for(r.http_version.size()) + words_for(r.method.size()) + words_for(r.scheme.size()) +
                      words_for(r.path.size()) + words_for(r.raw_path.size()) + words_for(r.query_string.size()) +
                      words_for(r.root_path.size()) + words_for(r.client_host.size()) +
                      words_for(r.server_host.size()) + words_for(r.body.size()) + words_for(r.request_id.size()) +
                      words_for(r.peer_host.size()) + 2 * 8;
  for (const HeaderView& h : r.headers) words += words_for(h.name.size()) + words_for(h.value.size());
  for (std::string_view p : r.subprotocols) words += words_for(p.size());
  if (r.tls) {
    words += 8 + words_for(r.tls->server_cert.size()) + words_for(r.tls->client_cert_name.size()) +
             words_for(r.tls->client_cert_error.size()) + r.tls->client_cert_chain.size();
    for (const auto& pem : r.tls->client_cert_chain) words += words_for(pem.size());
  }

  build(out, scope, words, [&](wire::Envelope::Builder env) {
    auto o = env.initOpen();
    o.setType(r.type);
    o.setClientPort(r.client_port);
    o.setServerPort(r.server_port);
    o.setServerIsUnix(r.server_is_unix);
    // A request without a body always carries its one empty http.request.
    o.setHasBody(r.has_body);
    o.setMore(r.has_body && r.more);
    o.setExpectContinue(r.expect_continue);
    o.setExtensions(r.extensions);
    copy_text(r.http_version, [&](unsigned n) { return o.initHttpVersion(n); });
    copy_text(r.method, [&](unsigned n) { return o.initMethod(n); });
    copy_text(r.scheme, [&](unsigned n) { return o.initScheme(n); });
    copy_text(r.path, [&](unsigned n) { return o.initPath(n); });
    o.setRawPath(as_data(r.raw_path));
    o.setQueryString(as_data(r.query_string));
    copy_text(r.root_path, [&](unsigned n) { return o.initRootPath(n); });
    auto headers = o.initHeaders(static_cast<unsigned>(r.headers.size() * 2));
    for (std::size_t i = 0; i < r.headers.size(); ++i) {
      headers.set(static_cast<unsigned>(2 * i), as_data(r.headers[i].name));
      headers.set(static_cast<unsigned>(2 * i + 1), as_data(r.headers[i].value));
    }
    copy_text(r.client_host, [&](unsigned n) { return o.initClientHost(n); });
    copy_text(r.server_host, [&](unsigned n) { return o.initServerHost(n); });
    if (!r.subprotocols.empty()) {
      auto protos = o.initSubprotocols(static_cast<unsigned>(r.subprotocols.size()));
      for (std::size_t i = 0; i < r.subprotocols.size(); ++i) {
        copy_text(r.subprotocols[i], [&](unsigned n) { return protos.init(static_cast<unsigned>(i), n); });
      }
    }
    if (r.has_body) o.setBody(as_data(r.body));
    copy_text(r.request_id, [&](unsigned n) { return o.initRequestId(n); });
    // Only when the edge layer replaced the client: null otherwise.
    if (!r.peer_host.empty()) {
      copy_text(r.peer_host, [&](unsigned n) { return o.initPeerHost(n); });
      o.setPeerPort(r.peer_port);
    }
    if (r.tls) {
      auto t = o.initTls();
      t.setTlsVersion(r.tls->tls_version);
      t.setCipherSuite(r.tls->cipher_suite);
      t.setHasClientCert(r.tls->has_client_cert);
      copy_text(r.tls->server_cert, [&](unsigned n) { return t.initServerCert(n); });
      copy_text(r.tls->client_cert_name, [&](unsigned n) { return t.initClientCertName(n); });
      copy_text(r.tls->client_cert_error, [&](unsigned n) { return t.initClientCertError(n); });
      if (!r.tls->client_cert_chain.empty()) {
        auto chain = t.initClientCertChain(static_cast<unsigned>(r.tls->client_cert_chain.size()));
        for (std::size_t i = 0; i < r.tls->client_cert_chain.size(); ++i)
          copy_text(r.tls->client_cert_chain[i], [&](unsigned n) { return chain.init(static_cast<unsigned>(i), n); });
      }
    }
    if (!r.route_params.empty()) {
      auto params = o.initRouteParams(static_cast<unsigned>(r.route_params.size()));
      for (std::size_t i = 0; i < r.route_params.size(); ++i) {
        copy_text(r.route_params[i], [&](unsigned n) { return params.init(static_cast<unsigned>(i), n); });
      }
    }
  });
}

void append_lifespan_open(std::string& out, std::uint64_t scope) {
  build(out, scope, 8, [&](wire::Envelope::Builder env) { env.initOpen().setType(wire::ScopeType::LIFESPAN); });
}

void append_lifespan_startup(std::string& out, std::uint64_t scope) {
  build(out, scope, 0, [](wire::Envelope::Builder env) { env.setLifespanStartup(); });
}

void append_lifespan_shutdown(std::string& out, std::uint64_t scope) {
  build(out, scope, 0, [](wire::Envelope::Builder env) { env.setLifespanShutdown(); });
}

void append_http_request(std::string& out, std::uint64_t scope, std::string_view chunk, bool more) {
  build_body(out, scope, chunk, more, [](wire::Envelope::Builder env) { return env.initHttpRequest(); });
}

void append_credit(std::string& out, std::uint64_t scope, std::uint64_t bytes) {
  constexpr std::uint64_t max_credit = std::numeric_limits<std::uint32_t>::max();
  while (bytes > 0) {
    const std::uint64_t part = std::min(bytes, max_credit);
    build(out, scope, 0,
          [&](wire::Envelope::Builder env) { env.initCredit().setBytes(static_cast<std::uint32_t>(part)); });
    bytes -= part;
  }
}

void append_response_done(std::string& out, std::uint64_t scope) {
  build(out, scope, 0, [](wire::Envelope::Builder env) { env.setResponseDone(); });
}

void append_http_disconnect(std::string& out, std::uint64_t scope, DisconnectReason reason) {
  const std::string_view text = to_string(reason);
  build(out, scope, words_for(text.size()), [&](wire::Envelope::Builder env) {
    auto d = env.initHttpDisconnect();
    copy_text(text, [&](unsigned n) { return d.initReason(n); });
  });
}

void append_heartbeat(std::string& out, std::uint64_t seq) {
  build(out, 0, 0, [&](wire::Envelope::Builder env) { env.initHeartbeat().setSeq(seq); });
}

void append_drain(std::string& out, std::uint32_t timeout_ms) {
  build(out, 0, 0, [&](wire::Envelope::Builder env) { env.initDrain().setTimeoutMs(timeout_ms); });
}

void append_body_ring_release(std::string& out, std::uint64_t through) {
  build(out, 0, 0, [&](wire::Envelope::Builder env) { env.initBodyRingRelease().setThrough(through); });
}

void append_shutdown(std::string& out) {
  build(out, 0, 0, [](wire::Envelope::Builder env) { env.setShutdown(); });
}

}  // namespace pagi::workers::messages
