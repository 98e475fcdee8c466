# The wire schema between pagi-gateway and its workers.
#
# One Unix stream socket per worker; each message is one Envelope in Cap'n
# Proto's standard stream framing (segment table, then segments). Writers
# produce single-segment messages. docs/protocol.md describes the
# conversation; this file is the vocabulary.
#
# Shaped for cheap decoding in Perl and Python, where every pointer hop is
# interpreted code: the Envelope holds small values in its data section, events
# are flat structs one pointer away, headers are one List(Data) of alternating
# name/value byte strings, and events without fields are Void union members
# (no pointer at all). Ordinals are append-only: never renumber.

@0xc7972efcc731ff70;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("pagi::wire");

const protocolVersion :UInt16 = 1;

enum ScopeType {
  http @0;
  websocket @1;
  sse @2;
  lifespan @3;
}

enum LifespanMode {
  auto @0;   # run it; an app that raises on the lifespan scope has no lifespan
  on @1;     # run it; an app that raises fails the worker's startup
  off @2;    # never open a lifespan scope
}

# Bits of ScopeOpen.extensions: which scope->{extensions} entries the gateway
# supports for this scope.
const extFullflush :UInt32 = 1;
const extWebsocketHttpResponse :UInt32 = 2;
const extTls :UInt32 = 4;
const extEarlyHints :UInt32 = 8;

# Bits of Hello.scopeTypes.
const scopeBitHttp :UInt32 = 1;
const scopeBitWebsocket :UInt32 = 2;
const scopeBitSse :UInt32 = 4;

struct Envelope {
  # Scope this message belongs to. 0 for worker-level control messages
  # (hello, welcome, heartbeat, drain, shutdown). Scope ids are chosen by the
  # gateway, unique and increasing per worker connection.
  scope @0 :UInt64;

  union {
    # --- control: worker <-> gateway ---------------------------------------
    hello @1 :Hello;               # W->G, first message on a connection
    welcome @2 :Welcome;           # G->W, answer to hello
    open @3 :ScopeOpen;            # G->W, a new scope
    credit @4 :Credit;             # both ways, flow control (see Credit)
    heartbeat @5 :Heartbeat;       # G->W ping; W->G echoes the same seq
    drain @6 :Drain;               # G->W, finish what you have, take nothing new
    shutdown @7 :Void;             # G->W, run lifespan shutdown then exit
    scopeEnd @8 :ScopeEnd;         # W->G, the app's future for this scope is done
    responseDone @9 :Void;         # G->W, response fully written (on_complete)

    # --- PAGI receive events: gateway -> worker ---------------------------
    httpRequest @10 :Body;         # http.request
    httpDisconnect @11 :Disconnect;        # http.disconnect (reason for pagi.connection)
    websocketConnect @12 :Void;            # websocket.connect
    websocketReceive @13 :Message;         # websocket.receive
    websocketDisconnect @14 :WebsocketClose;  # websocket.disconnect
    sseRequest @15 :Body;                  # sse.request
    sseDisconnect @16 :Disconnect;         # sse.disconnect
    lifespanStartup @17 :Void;             # lifespan.startup
    lifespanShutdown @18 :Void;            # lifespan.shutdown

    # --- PAGI send events: worker -> gateway ------------------------------
    httpResponseStart @19 :ResponseStart;      # http.response.start
    httpResponseBody @20 :ResponseBody;        # http.response.body
    httpResponseTrailers @21 :Headers;         # http.response.trailers
    httpFullflush @22 :Void;                   # http.fullflush (extension)
    httpResponseEarlyHint @23 :Headers;        # http.response.early_hint (extension, 103)
    websocketAccept @24 :WebsocketAccept;      # websocket.accept
    websocketSend @25 :Message;                # websocket.send
    websocketClose @26 :WebsocketClose;        # websocket.close
    websocketKeepalive @27 :Keepalive;         # websocket.keepalive
    websocketHttpResponseStart @28 :ResponseStart;  # websocket.http.response.start
    websocketHttpResponseBody @29 :Body;            # websocket.http.response.body
    sseStart @30 :ResponseStart;               # sse.start
    sseSend @31 :SseEvent;                     # sse.send
    sseComment @32 :Text;                      # sse.comment (leading colon optional)
    sseKeepalive @33 :Keepalive;               # sse.keepalive (comment in Keepalive.comment)
    sseClose @34 :Text;                        # sse.close, with its optional reason
    sseHttpResponseStart @35 :ResponseStart;   # sse.http.response.start
    sseHttpResponseBody @36 :Body;             # sse.http.response.body
    lifespanStartupComplete @37 :Void;         # lifespan.startup.complete
    lifespanStartupFailed @38 :Text;           # lifespan.startup.failed, message
    lifespanShutdownComplete @39 :Void;        # lifespan.shutdown.complete
    lifespanShutdownFailed @40 :Text;          # lifespan.shutdown.failed, message
    lifespanUnsupported @41 :Text;             # the app raised on the lifespan scope (auto mode), message

    # --- control, added after the above ---------------------------------
    bodyRingRelease @42 :BodyRingRelease;      # G->W, scope 0: body ring bytes the gateway is done with
  }
}

struct Hello {
  protocolVersion @0 :UInt16;
  pid @1 :UInt32;
  concurrency @2 :UInt32;      # scopes this worker runs at once; 0 = gateway decides
  scopeTypes @3 :UInt32;       # scopeBit* the app supports
  sdkName @4 :Text;            # e.g. "pagi-worker-perl"
  sdkVersion @5 :Text;
  pool @6 :Text;               # attach mode: the pool this worker serves
  app @7 :Text;                # what the worker runs, for logs
  skipResponseDone @8 :Bool;   # true: never send this worker responseDone (its
                               # apps have no on_complete); false keeps it
}

struct Welcome {
  protocolVersion @0 :UInt16;
  workerId @1 :UInt32;
  sendWindow @2 :UInt32;        # response bytes per scope a worker may have unacknowledged
  receiveWindow @3 :UInt32;     # request body bytes per scope the gateway sends before credit
  heartbeatIntervalMs @4 :UInt32;
  lifespan @5 :LifespanMode;
  maxMessageBytes @6 :UInt32;   # largest frame the gateway accepts from this worker
  pool @7 :Text;
  bodyRingBytes @8 :UInt32;     # size of the shared body ring this worker may write
                                # response bodies into (0: none; see BodyRingRelease)
}

# The shared body ring (docs/protocol.md "Shared body ring"): a memfd the
# gateway creates per spawned worker, sealed against resizing, mapped by both
# and inherited by the worker as PAGI_BODY_RING_FD. The worker copies a
# response body into it at its running write position and sends
# ResponseBody{ringPosition, ringLength} instead of the bytes; the gateway
# writes the client straight from the mapping. Positions count bytes from 0
# and never wrap; the byte at position p is at offset p mod bodyRingBytes.
struct BodyRingRelease {
  through @0 :UInt64;          # every span ending at or before this position is
                               # released; the worker may write up to through + size
}

# Per-scope credit in bytes.
#   W->G: the app consumed this many request body bytes (sse.request,
#         http.request); the gateway may send that many more. A first credit
#         on a scope whose ScopeOpen said expectContinue also means "the app
#         is reading the body", which sends 100 Continue to the client.
#   G->W: this many response bytes reached the client's socket; the worker
#         may have that many more in flight.
struct Credit {
  bytes @0 :UInt32;
}

struct Heartbeat {
  seq @0 :UInt64;
}

struct Drain {
  timeoutMs @0 :UInt32;        # streams still open after this are closed by the gateway
}

struct ScopeEnd {
  failed @0 :Bool;             # the app's future failed (exception)
  message @1 :Text;            # the exception, for the gateway's log
}

struct ScopeOpen {
  type @0 :ScopeType;
  clientPort @1 :UInt16;
  serverPort @2 :UInt16;       # 0 with a unix serverHost
  hasBody @3 :Bool;            # body/more below carry the first http.request / sse.request
  more @4 :Bool;
  expectContinue @5 :Bool;
  extensions @6 :UInt32;       # ext* bits
  serverIsUnix @7 :Bool;
  httpVersion @8 :Text;        # "1.0", "1.1", "2"
  method @9 :Text;
  scheme @10 :Text;            # http, https, ws, wss
  path @11 :Text;              # percent-decoded
  rawPath @12 :Data;
  queryString @13 :Data;
  rootPath @14 :Text;
  headers @15 :List(Data);     # name0, value0, name1, value1, ... names lower-case
  clientHost @16 :Text;        # empty when unknown (unix listener)
  serverHost @17 :Text;        # address, or the socket path when serverIsUnix
  subprotocols @18 :List(Text);
  body @19 :Data;
  tls @20 :TlsInfo;            # null on cleartext connections
  routeParams @21 :List(Text); # name0, value0, ... from :param route segments
  requestId @22 :Text;
  # The connection's TCP peer, set only when `client` is not it: the gateway
  # replaced client with the address a trusted proxy (Forwarded,
  # X-Forwarded-For) or a PROXY protocol header named. Empty otherwise.
  peerHost @23 :Text;
  peerPort @24 :UInt16;
}

struct TlsInfo {
  tlsVersion @0 :UInt16;       # e.g. 0x0304 for TLS 1.3
  cipherSuite @1 :UInt16;      # IANA number
  hasClientCert @2 :Bool;
  serverCert @3 :Text;         # PEM
  clientCertChain @4 :List(Text);  # PEM, leaf first
  clientCertName @5 :Text;     # RFC 4514
  clientCertError @6 :Text;    # empty when none
}

struct Body {
  body @0 :Data;
  more @1 :Bool;
}

struct Disconnect {
  reason @0 :Text;             # a standard PAGI disconnect reason
}

struct Headers {
  headers @0 :List(Data);      # alternating name/value
}

struct ResponseStart {
  status @0 :UInt16;
  trailers @1 :Bool;
  headers @2 :List(Data);      # alternating name/value
}

# http.response.body. At most one of body, file or a ring span: a non-empty file means the
# gateway opens that absolute path and sends it (sendfile); the worker checked
# it could open it before sending.
struct ResponseBody {
  more @0 :Bool;
  offset @1 :UInt64;
  length @2 :Int64;            # -1: to end of file
  body @3 :Data;
  file @4 :Text;
  ringPosition @5 :UInt64;     # with ringLength > 0: the body is in the shared
  ringLength @6 :UInt32;       # body ring (then body and file are empty)
}

# websocket.send / websocket.receive: exactly one of text (UTF-8) or bytes.
struct Message {
  isText @0 :Bool;
  bytes @1 :Data;
  text @2 :Text;
}

struct WebsocketAccept {
  hasSubprotocol @0 :Bool;
  subprotocol @1 :Text;
  headers @2 :List(Data);
}

struct WebsocketClose {
  code @0 :UInt16;
  reason @1 :Text;
}

struct Keepalive {
  intervalMs @0 :UInt32;       # 0 stops
  timeoutMs @1 :UInt32;        # websocket: pong deadline, 0 = none
  comment @2 :Text;            # sse: the comment text
}

struct SseEvent {
  retry @0 :Int64;             # -1: no retry field
  hasEvent @1 :Bool;
  hasId @2 :Bool;
  data @3 :Text;
  event @4 :Text;
  id @5 :Text;
}
