"""Attach mode (--connect PATH --pool NAME): one Worker per connection to the
pool's socket. When the gateway cannot be reached, or goes away without
saying `shutdown` (it was restarted, or stopped and released its attached
workers), connect again after a capped exponential backoff with jitter; the
new gateway runs lifespan startup again. `shutdown` from the gateway
(recycling: "exit after draining") ends the process, so whatever supervises
it starts a fresh one."""

import asyncio
import random
import time

from .log import log

# FIRST_DELAY doubled per failed attempt, capped at MAX_DELAY, times a random
# factor in [0.5, 1) so the workers of a pod do not reconnect in lockstep. A
# session that lasted MAX_DELAY resets the backoff.
FIRST_DELAY = 0.1
MAX_DELAY = 5.0


def delay_for(attempt, rng=random.random):
    return min(MAX_DELAY, FIRST_DELAY * 2 ** min(attempt, 30)) * (0.5 + rng() / 2)


def _watch_shutdown(worker):
    """Notes on the worker whether the gateway said `shutdown`."""
    worker.shutdown_requested = False
    on_shutdown = worker._on_shutdown

    def wrapped():
        worker.shutdown_requested = True
        return on_shutdown()
    worker._on_shutdown = wrapped


async def serve_attached(make_worker, path):
    """Runs sessions until the gateway says shutdown; returns the exit code."""
    loop = asyncio.get_running_loop()
    attempt = 0
    while True:
        worker = make_worker(loop)
        _watch_shutdown(worker)
        started = time.monotonic()
        try:
            await loop.create_unix_connection(lambda: worker, path)
        except OSError as exc:
            what = 'no gateway (%s)' % exc.strerror
        else:
            code = await worker.done
            if worker.shutdown_requested:
                return code
            what = 'the gateway went away'
            if worker.welcome is not None and time.monotonic() - started >= MAX_DELAY:
                attempt = 0
        delay = delay_for(attempt)
        attempt += 1
        log('%s; connecting to %s again in %.2fs' % (what, path, delay))
        await asyncio.sleep(delay)
