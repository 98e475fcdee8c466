"""HTTP/2 conformance and defences with raw frames (h2spec is not packaged
for Debian 12, so the cases that matter are kept here): frame size errors,
stream state errors, flow-control errors, HPACK errors, CONTINUATION flood,
Rapid Reset (CVE-2023-44487), SETTINGS and PING floods, oversized header
lists, too many concurrent streams. Each case asserts the frame the gateway
answers with and that the connection (or only the stream) ends."""
import pytest

from h2tls import (RawH2, write_config, frame, literal, request_headers, DATA, HEADERS, RST_STREAM, SETTINGS, PING,
                   GOAWAY, WINDOW_UPDATE, END_HEADERS, END_STREAM, ACK)

CONTINUATION, PRIORITY = 9, 2
NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR = 0, 1, 3, 6
COMPRESSION_ERROR, ENHANCE_YOUR_CALM, REFUSED_STREAM, STREAM_CLOSED = 9, 11, 7, 5


@pytest.fixture
def gw(start_gateway, tmp_path, channel):
    return start_gateway(config=write_config(tmp_path, ["\"127.0.0.1:0\""], env=channel.env,
                                             http={"max_header_bytes": 8192, "h2_max_concurrent_streams": 4}))


def client(gw):
    c = RawH2("127.0.0.1", gw.port)
    c.wait_for(SETTINGS)  # the server's first SETTINGS
    return c


def goaway_code(c):
    f = c.wait_for(GOAWAY)
    return int.from_bytes(f[3][4:8], "big")


def closes(c):
    """The gateway closes after its GOAWAY (frames still queued may come first)."""
    while True:
        f = c.next_frame()
        if f is None:
            return True


def first_error(c, stream):
    """The code of the first RST_STREAM on `stream` or GOAWAY."""
    while True:
        f = c.next_frame()
        assert f is not None, "closed without RST_STREAM or GOAWAY"
        if f[0] == RST_STREAM and f[2] == stream:
            return int.from_bytes(f[3], "big")
        if f[0] == GOAWAY:
            return int.from_bytes(f[3][4:8], "big")


def rst_code(c, stream):
    f = c.wait_for(RST_STREAM, stream)
    return int.from_bytes(f[3], "big")


# ---- frame sizes ----

def test_settings_with_bad_length(gw):
    c = client(gw)
    c.send(frame(SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00"))  # 5 bytes: not a multiple of 6
    assert goaway_code(c) == FRAME_SIZE_ERROR
    assert closes(c)


def test_ping_with_bad_length(gw):
    c = client(gw)
    c.send(frame(PING, 0, 0, b"1234567"))
    assert goaway_code(c) == FRAME_SIZE_ERROR
    assert closes(c)


def test_frame_over_max_frame_size(gw):
    c = client(gw)
    c.get(1, "/hello", end=False)
    c.send(frame(DATA, 0, 1, b"x" * 16385))  # SETTINGS_MAX_FRAME_SIZE is 16384
    assert goaway_code(c) == FRAME_SIZE_ERROR
    assert closes(c)


# ---- stream states ----

def test_data_on_stream_zero(gw):
    c = client(gw)
    c.send(frame(DATA, 0, 0, b"x"))
    assert goaway_code(c) == PROTOCOL_ERROR
    assert closes(c)


def test_data_on_idle_stream(gw):
    c = client(gw)
    c.send(frame(DATA, 0, 1, b"x"))
    assert goaway_code(c) == PROTOCOL_ERROR
    assert closes(c)


def test_even_stream_id_from_client(gw):
    c = client(gw)
    c.get(2, "/hello")
    assert goaway_code(c) == PROTOCOL_ERROR
    assert closes(c)


def test_decreasing_stream_id(gw):
    # RFC 9113 5.1.1 (nghttp2 alone ignores it; gateway/http2/session.cpp checks).
    c = client(gw)
    c.get(5, "/hello")
    c.wait_for(DATA, 5)
    c.get(3, "/hello")
    assert goaway_code(c) == PROTOCOL_ERROR
    assert closes(c)


def test_trailers_after_our_reset_are_ignored(gw):
    c = client(gw)
    # /hello answers without reading the body: the stream is reset (NO_ERROR)
    # while the client still sends; its late trailers must not end the connection.
    c.send(frame(HEADERS, END_HEADERS, 1, request_headers("/hello", method="POST")))
    c.wait_for(RST_STREAM, 1)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, literal("x-trailer", "late")))
    c.get(3, "/hello")
    f = c.next_frame()
    while f is not None and not (f[0] == DATA and f[2] == 3):
        assert f[0] != GOAWAY, "the late trailers ended the connection"
        f = c.next_frame()
    assert f is not None


def test_data_after_end_stream(gw):
    c = client(gw)
    c.send(frame(HEADERS, END_HEADERS, 1, request_headers("/h2wait?closed", method="POST")))
    c.send(frame(DATA, END_STREAM, 1, b"a"))
    c.send(frame(DATA, 0, 1, b"b"))  # half-closed (remote): STREAM_CLOSED
    assert first_error(c, 1) == STREAM_CLOSED


def test_headers_without_method_is_a_stream_error(gw):
    c = client(gw)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, literal(":scheme", "http") + literal(":path", "/")))
    assert rst_code(c, 1) == PROTOCOL_ERROR
    c.get(3, "/hello")  # the connection goes on
    c.wait_for(DATA, 3)


# ---- flow control ----

def test_window_update_of_zero_on_the_connection(gw):
    c = client(gw)
    c.send(frame(WINDOW_UPDATE, 0, 0, (0).to_bytes(4, "big")))
    assert goaway_code(c) == PROTOCOL_ERROR


def test_window_update_overflow(gw):
    c = client(gw)
    big = (0x7FFFFFFF).to_bytes(4, "big")
    c.send(frame(WINDOW_UPDATE, 0, 0, big) + frame(WINDOW_UPDATE, 0, 0, big))
    assert goaway_code(c) == FLOW_CONTROL_ERROR
    assert closes(c)


def test_data_beyond_the_stream_window(start_gateway, tmp_path, channel):
    gw = start_gateway(config=write_config(tmp_path, ["\"127.0.0.1:0\""], env=channel.env,
                                           http={"h2_stream_window": 1024}))
    c = client(gw)  # our SETTINGS ACK goes out before the DATA: the 1024 window applies
    c.send(frame(HEADERS, END_HEADERS, 1, request_headers("/echo", method="POST")))
    c.send(frame(DATA, 0, 1, b"x" * 2000))
    assert first_error(c, 1) == FLOW_CONTROL_ERROR


# ---- HPACK ----

def test_hpack_index_zero(gw):
    c = client(gw)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\x80"))  # indexed field 0 does not exist
    assert goaway_code(c) == COMPRESSION_ERROR
    assert closes(c)


def test_hpack_index_past_the_tables(gw):
    c = client(gw)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\xff\x80\x01"))  # index 255: empty dynamic table
    assert goaway_code(c) == COMPRESSION_ERROR


# ---- defences ----

def test_continuation_flood(gw):
    c = client(gw)
    c.send(frame(HEADERS, 0, 1, literal(":method", "GET")))  # no END_HEADERS
    c.send(b"".join(frame(CONTINUATION, 0, 1, literal("x-a", "b")) for _ in range(64)))
    assert goaway_code(c) in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR)
    assert closes(c)


def test_rapid_reset(gw):
    c = client(gw)
    burst = b"".join(frame(HEADERS, END_HEADERS | END_STREAM, sid, request_headers("/hello"))
                     + frame(RST_STREAM, 0, sid, (8).to_bytes(4, "big")) for sid in range(1, 2 * 2000, 2))
    try:
        c.send(burst)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the gateway may close while the burst is still going out
    code = goaway_code(c)
    assert code in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR, 2)  # 2: INTERNAL_ERROR, nghttp2's rate limit answer
    assert closes(c)


def test_settings_flood(gw):
    c = client(gw)
    try:
        c.send(frame(SETTINGS, 0, 0) * 5000)  # 5000 ACKs to queue, none read
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert goaway_code(c) == ENHANCE_YOUR_CALM
    assert closes(c)


def test_ping_flood(start_gateway, tmp_path, channel):
    # Acks are written as fast as the client sends; the limit counts those
    # queued at once (all of one read here, or all while writes are stalled).
    gw = start_gateway(config=write_config(tmp_path, ["\"127.0.0.1:0\""], env=channel.env,
                                           http={"h2_max_queued_acks": 100}))
    c = client(gw)
    try:
        c.send(frame(PING, 0, 0, b"12345678") * 5000)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert goaway_code(c) == ENHANCE_YOUR_CALM
    assert closes(c)


def test_too_many_settings_entries(gw):
    c = client(gw)
    c.send(frame(SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00\x64" * 64))  # over h2_max_settings (32)
    assert goaway_code(c) == ENHANCE_YOUR_CALM
    assert closes(c)


def test_oversized_header_list_is_431(gw):
    c = client(gw)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1,
                 request_headers("/hello") + b"".join(literal(f"x-h{i}", "v" * 100) for i in range(100))))
    f = c.wait_for(HEADERS, 1)
    import hpack  # python3-hpack, with python3-h2
    assert dict(hpack.Decoder().decode(f[3]))[":status"] == "431"  # the first response: empty dynamic table
    c.get(3, "/hello")  # the connection goes on
    c.wait_for(DATA, 3)


def test_streams_over_the_concurrency_limit_are_refused(gw, channel):
    c = client(gw)
    for i in range(4):  # h2_max_concurrent_streams: 4, all held open by the app
        c.send(frame(HEADERS, END_HEADERS, 1 + 2 * i, request_headers(f"/h2wait?c{i}", method="POST")))
    for i in range(4):
        channel.wait_for(f"h2wait started c{i}")
    c.get(9, "/hello")
    assert first_error(c, 9) in (REFUSED_STREAM, PROTOCOL_ERROR)
