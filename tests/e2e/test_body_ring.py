"""Response bodies through the shared body ring (docs/protocol.md 3c), with
the real gateway and Perl workers (their XS part sends bodies of 4 KiB and
more through it): many large streams at once arrive intact, also when the
ring is small enough to wrap and fill; `body_ring: 0` maps no ring; an idle
gateway drops its pages of the ring."""
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import EVENT_TIMEOUT, child_pids, status_kib
from httpraw import Conn, request
from test_streaming import expected_stream

APP = "app.pl"


def ring_mapped(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "pagi-body-ring" in f.read()


def rss_shmem_kib(pid):
    return status_kib(pid, "RssShmem")


def fetch_stream(gw, chunks, size):
    with Conn.to(gw) as c:
        c.send(request("GET", f"/stream?chunks={chunks}&size={size}"))
        return c.read_response()


def test_many_large_streams_arrive_intact_through_a_small_ring(start_gateway):
    # 256 KiB: sixteen 16 KiB spans fill it, so under 16 concurrent streams
    # spans wrap around and some bodies fall back to the socket.
    gw = start_gateway(APP, pool={"body_ring": "256k"})
    want = expected_stream(24, 16 * 1024)
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda _: fetch_stream(gw, 24, 16 * 1024), range(48)))
    for r in responses:
        assert r.status == 200
        assert r.body == want
    workers = child_pids(gw.proc.pid)
    assert len(workers) == 2
    assert all(ring_mapped(pid) for pid in workers), "each worker took up its ring"
    assert ring_mapped(gw.proc.pid)
    assert "protocol error" not in gw.output()


def test_ring_turned_off_maps_nothing(start_gateway):
    gw = start_gateway(APP, pool={"body_ring": 0})
    r = fetch_stream(gw, 8, 32 * 1024)
    assert r.status == 200 and r.body == expected_stream(8, 32 * 1024)
    assert not ring_mapped(gw.proc.pid)
    assert not any(ring_mapped(pid) for pid in child_pids(gw.proc.pid))


def test_idle_gateway_drops_its_ring_pages(start_gateway):
    # Once the ring emptied and 1 s passed without a span, the gateway
    # unmaps its view of the ring's pages.
    gw = start_gateway(APP, pool={"workers": 1})
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: fetch_stream(gw, 64, 16 * 1024), range(8)))
    assert all(r.status == 200 and len(r.body) == 1024 * 1024 for r in responses)
    # At least a send window's worth (256 KiB) was in the ring at once.
    touched = rss_shmem_kib(gw.proc.pid)
    assert touched >= 256, f"the client writes read {touched} KiB of ring pages"
    deadline = time.monotonic() + EVENT_TIMEOUT
    while rss_shmem_kib(gw.proc.pid) > 64:
        # No event says "trimmed"; the 1 s quiet period bounds the wait.
        assert time.monotonic() < deadline, f"still {rss_shmem_kib(gw.proc.pid)} KiB of ring pages"
        time.sleep(0.05)
    # And the ring still serves.
    r = fetch_stream(gw, 4, 16 * 1024)
    assert r.body == expected_stream(4, 16 * 1024)
