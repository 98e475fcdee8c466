"""The eager first step (pagi_worker/eager.py): in-process against both
loops, then through a worker subprocess with tests/apps/eager_app.py."""
import asyncio
import contextvars
import gc
import sys

import pytest

from fake_gateway import FakeGateway, ROOT

sys.path.insert(0, ROOT)
from pagi_worker import eager  # noqa: E402

try:
    import uvloop
except ImportError:          # the SDK runs without it; so do these tests
    uvloop = None

LOOPS = ['asyncio'] + (['uvloop'] if uvloop else [])

# The pure start and, when the accelerator is built, its C twin
# (_speedups_scope.c): the in-process tests run against each.
STARTS = {'pure': eager.pure_start}
if eager.start is not eager.pure_start:
    STARTS['c'] = eager.start


@pytest.fixture(params=sorted(STARTS))
def each_start(request, monkeypatch):
    monkeypatch.setattr(eager, 'start', STARTS[request.param])
    return request.param


def run(loop_kind, main):
    factory = uvloop.new_event_loop if loop_kind == 'uvloop' else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as r:
        return r.run(main())


async def _from_callback(fn):
    """Runs fn in a loop callback (not inside a task), as data_received does."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def cb():
        try:
            fut.set_result(fn(loop))
        except BaseException as e:   # noqa: B902 - handed to the test
            fut.set_exception(e)
    loop.call_soon(cb)
    return await fut


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_finishing_coroutine_makes_no_task(loop_kind):
    steps = []

    async def app():
        steps.append(asyncio.current_task() is not None)
        return 42

    async def main():
        t = await _from_callback(lambda loop: eager.start(loop, app()))
        return t
    assert run(loop_kind, main) is None
    assert steps == [True]        # current_task() answered during the step


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_suspending_coroutine_continues_in_the_same_task(loop_kind):
    async def app(ev):
        first = asyncio.current_task()
        got = await ev
        return first is asyncio.current_task(), got

    async def main():
        ev = asyncio.get_running_loop().create_future()
        t = await _from_callback(lambda loop: eager.start(loop, app(ev)))
        assert isinstance(t, asyncio.Task) and not t.done()
        assert t in asyncio.all_tasks()
        ev.set_result('value')
        return await t
    assert run(loop_kind, main) == (True, 'value')


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_task_repr_and_name_in_the_first_step(loop_kind):
    async def app(ev):
        t = asyncio.current_task()
        seen = [repr(t), t.get_coro()]
        t.set_name('named-early')
        await ev
        return seen, t.get_name(), 'named-early' in repr(t)

    async def main():
        ev = asyncio.get_running_loop().create_future()
        t = await _from_callback(lambda loop: eager.start(loop, app(ev)))
        ev.set_result(None)
        return await t
    (first_repr, first_coro), name, in_repr = run(loop_kind, main)
    assert 'first step' in first_repr and first_coro is None
    assert name == 'named-early' and in_repr


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_bare_yield_and_chained_waits(loop_kind):
    async def app():
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)
        await asyncio.sleep(0)
        return 'done'

    async def main():
        t = await _from_callback(lambda loop: eager.start(loop, app()))
        return await t
    assert run(loop_kind, main) == 'done'


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
@pytest.mark.parametrize('when', ['before_first_step', 'while_waiting'])
def test_cancellation_reaches_the_coroutine(loop_kind, when):
    seen = []

    async def app(ev):
        try:
            await ev
        except asyncio.CancelledError:
            seen.append('cancelled')
            raise
        finally:
            seen.append('finally')

    async def main():
        loop = asyncio.get_running_loop()
        ev = loop.create_future()
        t = await _from_callback(lambda loop: eager.start(loop, app(ev)))
        if when == 'while_waiting':
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        return t.cancelled(), ev.cancelled() if when == 'while_waiting' else None
    cancelled, ev_cancelled = run(loop_kind, main)
    assert cancelled is True
    assert seen == ['cancelled', 'finally']
    if when == 'while_waiting':
        assert ev_cancelled is True    # as with create_task: the awaited future is cancelled


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_cancel_caught_and_waiting_again(loop_kind):
    async def app(ev):
        try:
            await ev
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(0.001)
        return 'survived'

    async def main():
        loop = asyncio.get_running_loop()
        t = await _from_callback(lambda loop: eager.start(loop, app(loop.create_future())))
        t.cancel()
        return await t
    assert run(loop_kind, main) == 'survived'


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_self_cancel_in_the_first_step_is_replayed(loop_kind):
    async def app(ev):
        asyncio.current_task().cancel()
        await ev

    async def main():
        loop = asyncio.get_running_loop()
        t = await _from_callback(lambda loop: eager.start(loop, app(loop.create_future())))
        with pytest.raises(asyncio.CancelledError):
            await t
        return t.cancelled()
    assert run(loop_kind, main) is True


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_kept_task_of_a_finished_step_ends_with_its_result(loop_kind):
    kept = []

    async def app():
        kept.append(asyncio.current_task())
        return 'result'

    async def main():
        t = await _from_callback(lambda loop: eager.start(loop, app()))
        assert t is None
        return await kept[0]
    assert run(loop_kind, main) == 'result'


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_base_exception_in_the_first_step_surfaces_like_a_task(loop_kind):
    async def app():
        raise asyncio.CancelledError()

    async def main():
        t = await _from_callback(lambda loop: eager.start(loop, app()))
        with pytest.raises(asyncio.CancelledError):
            await t
        return t.cancelled()
    assert run(loop_kind, main) is True


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_exception_in_the_first_step_keeps_its_traceback(loop_kind):
    async def app():
        raise ValueError('boom')

    async def main():
        t = await _from_callback(lambda loop: eager.start(loop, app()))
        try:
            await t
        except ValueError as exc:
            names = []
            tb = exc.__traceback__
            while tb is not None:
                names.append(tb.tb_frame.f_code.co_name)
                tb = tb.tb_next
            return names
    assert 'app' in run(loop_kind, main)


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_start_inside_a_running_task_makes_a_plain_task(loop_kind):
    async def app(ev):
        return (await ev) + 1

    async def main():
        loop = asyncio.get_running_loop()
        ev = loop.create_future()
        t = eager.start(loop, app(ev))      # here: inside main's task
        assert isinstance(t, asyncio.Task) and not isinstance(t, eager.EagerTask)
        ev.set_result(1)
        return await t
    assert run(loop_kind, main) == 2


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_close_of_an_abandoned_task_closes_the_coroutine(loop_kind):
    closed = []

    async def app(ev):
        try:
            await ev
        finally:
            closed.append(True)

    async def main():
        loop = asyncio.get_running_loop()
        t = await _from_callback(lambda loop: eager.start(loop, app(loop.create_future())))
        t.get_coro().close()
        return True
    run(loop_kind, main)
    gc.collect()
    assert closed == [True]


@pytest.mark.usefixtures('each_start')
@pytest.mark.parametrize('loop_kind', LOOPS)
def test_contextvars_are_per_start(loop_kind):
    var = contextvars.ContextVar('v', default='unset')

    async def setter(ev):
        var.set('mine')
        await ev
        return var.get()

    async def getter():
        return var.get()

    async def main():
        loop = asyncio.get_running_loop()
        ev = loop.create_future()
        t = await _from_callback(lambda loop: eager.start(loop, setter(ev)))
        seen = []

        async def probe():
            seen.append(var.get())
        await _from_callback(lambda loop: eager.start(loop, probe()))
        ev.set_result(None)
        return await t, seen, var.get()
    assert run(loop_kind, main) == ('mine', ['unset'], 'unset')


# --- through a worker ---------------------------------------------------------------

@pytest.fixture
def gw():
    g = FakeGateway('eager_app:app')
    yield g
    g.kill()


def _body(gw, path, query=b''):
    status, headers, body, end = gw.response(gw.open_http('GET', path, query=query))
    return status, body.decode(), end


def test_contextvar_set_by_one_request_is_not_seen_by_the_next(gw):
    gw.handshake()
    assert _body(gw, '/set', b'1')[1] == 'unset'
    assert _body(gw, '/get')[1] == 'unset'
    assert _body(gw, '/set', b'2')[1] == 'unset'
    assert _body(gw, '/set-then-wait')[1] == 'waiting'
    assert _body(gw, '/get')[1] == 'unset'
    gw.shutdown()


def test_apis_that_need_the_current_task(gw):
    gw.handshake()
    assert _body(gw, '/task')[1] == 'same'
    assert _body(gw, '/timeout')[1] == 'timed out'
    assert _body(gw, '/taskgroup')[1] == 'child'
    assert _body(gw, '/anyio')[1] == 'from a thread'
    gw.shutdown()


@pytest.mark.parametrize('path,text', [('/raise-now', 'raised in the first step'),
                                       ('/raise-later', 'raised after suspending')])
def test_exceptions_give_500_and_a_logged_traceback(gw, path, text):
    gw.handshake()
    status, body, end = _body(gw, path, b'q=1')
    assert status == 500 and body == 'Internal Server Error'
    assert end['failed'] is True and text in end['message']
    err = gw.shutdown()
    assert 'GET %s?q=1' % path in err
    assert 'Traceback' in err and text in err


def test_disconnect_and_body_after_the_first_step(gw):
    gw.handshake()
    sid = gw.open_http('GET', '/disconnect')
    gw.expect('httpResponseStart', sid)
    gw.expect('httpResponseBody', sid)
    gw.send(sid, 'httpDisconnect', {'reason': 'client_closed'})
    assert gw.expect('scopeEnd', sid) == {'failed': False, 'message': ''}
    sid = gw.open_http('POST', '/body', body=b'ab', more=True)
    # The app's first step queued 'ab' and waits for more: its credit comes back.
    assert gw.expect('credit', sid) == {'bytes': 2}
    gw.send(sid, 'httpRequest', {'body': b'cd', 'more': False})
    status, headers, body, end = gw.response(sid)
    assert body == b'abcd'
    err = gw.shutdown()
    assert 'app: /disconnect got http.disconnect' in err


def test_waiting_scope_is_cancelled_at_shutdown(gw):
    gw.handshake()
    gw.open_http('GET', '/wait')
    gw.send(0, 'heartbeat', {'seq': 1})       # the scope is waiting once this comes back
    assert gw.expect('heartbeat', 0) == {'seq': 1}
    err = gw.shutdown()
    assert 'app: /wait cancelled' in err
