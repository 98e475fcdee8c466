"""Eager first step of a scope's coroutine (Python 3.11 has no
eager_task_factory; docs/python.md, "Eager first step").

start(loop, coro) runs the coroutine's first step at once, in a copy of the
current contextvars context (what create_task would give it), and makes an
asyncio Task only when that step suspends. A hello-world that answers
without waiting then costs no Task, no scheduled step and no extra loop turn.

What stays as with create_task:
- asyncio.current_task() during the first step is the Task object that goes
  on running the coroutine if it suspends (anyio cancel scopes,
  asyncio.timeout and TaskGroup key their state on it). It is allocated
  before the step and initialised (Task.__init__) only if needed; before
  that, it answers done() False, get_name() None, and methods that need a
  loop (add_done_callback, get_loop, ...) raise RuntimeError; repr() and
  set_name() work.
- The Task continues the coroutine where it stopped: its first step hands
  the future the coroutine waits on back to the Task machinery, and send,
  throw (cancellation) and close go on to the coroutine as with `yield from`.
- A cancel() of the task during its own first step is replayed on the Task.
- An exception that escapes the first step (the scope classes catch
  Exception, so CancelledError, SystemExit, KeyboardInterrupt) ends a Task
  the loop runs next, so it surfaces exactly where a Task's would.
- Per-request contextvars isolation: the step and the Task share the copy.
"""

import asyncio
import sys
import types
from contextvars import copy_context

_Task = asyncio.Task
_task_init = asyncio.Task.__init__
_enter_task = asyncio.tasks._enter_task
_leave_task = asyncio.tasks._leave_task
_getrefcount = sys.getrefcount


class EagerTask(asyncio.Task):
    """A Task that may exist (uninitialised) before its loop knows it."""

    def get_coro(self):
        # The C Task's get_coro() reads a pointer that is NULL before
        # __init__; _coro answers None then.
        return self._coro

    def __repr__(self):
        try:
            return super().__repr__()
        except RuntimeError:        # not initialised: in its first step
            return '<EagerTask pending (first step)>'


def pure_start(loop, coro):
    """Runs coro's first step now; returns its Task, or None when the
    coroutine finished in that step. (start is the C twin when built.)"""
    ctx = copy_context()
    task = EagerTask.__new__(EagerTask)
    try:
        _enter_task(loop, task)
    except RuntimeError:
        return _after(NESTED, loop, coro, task, ctx, None)
    try:
        first = ctx.run(coro.send, None)
    except StopIteration as stop:
        _leave_task(loop, task)
        # Someone kept the task (3: here, the argument, the holder): make it
        # a real one that ends with the same result.
        if _getrefcount(task) > 2:
            _after(RETURNED, loop, coro, task, ctx, stop.value)
        return None
    except BaseException as exc:
        _leave_task(loop, task)
        return _after(RAISED, loop, coro, task, ctx, exc)
    _leave_task(loop, task)
    return _after(SUSPENDED, loop, coro, task, ctx, first)


# How the first step ended, for _after (the C eager_start uses the same).
NESTED, RETURNED, RAISED, SUSPENDED = range(4)


def _after(kind, loop, coro, task, ctx, value):
    """Everything but a first step that finished with nobody keeping its
    task; returns what start returns."""
    if kind == SUSPENDED:
        cancels = task.cancelling()
        resume = _resume(coro, value, True)
        resume.send(None)           # primed: the Task's first step resumes it
        _task_init(task, resume, loop=loop, context=ctx, name=task.get_name())
        if cancels:
            task.cancel()
        return task
    if kind == RETURNED:
        _task_init(task, _value(value), loop=loop, context=ctx)
        return None
    if kind == RAISED:
        _task_init(task, _raise(value), loop=loop, context=ctx)
        return task
    # Called from inside a running task: no eager step there.
    return loop.create_task(coro, context=ctx)


@types.coroutine
def _resume(coro, first, primed):
    """The Task's coroutine: waits for `first` (what coro yielded in its
    eager step) as the Task machinery would, then delegates to coro."""
    try:
        if primed:
            yield               # start() primes the generator up to here
            # A bare yield (sleep(0)) wanted one loop turn: the Task's first
            # step already is one.
            if first is not None:
                yield first
        else:
            yield first
    except GeneratorExit:
        coro.close()
        raise
    except BaseException as exc:        # cancellation or a throw: to coro
        try:
            first = coro.throw(exc)
        except StopIteration as stop:
            return stop.value
        return (yield from _resume(coro, first, False))
    return (yield from coro)


async def _value(v):
    return v


async def _raise(exc):
    raise exc


start = pure_start
try:
    from .codec import _speedups
except ImportError:         # pragma: no cover - codec always defines it
    _speedups = None
if _speedups is not None:
    _speedups.configure_eager(EagerTask, _enter_task, _leave_task, _after, pure_start)
    start = _speedups.eager_start
