"""Loads the app like uvicorn does -- `module:attribute` (importable from
--app-dir, default the current directory) or `path/to/file.py:attribute` --
and tells which interface it speaks."""

import asyncio
import importlib
import importlib.util
import inspect
import os
import sys


class LoadError(Exception):
    pass


def load_app(spec, app_dir='.'):
    module_part, sep, attr = spec.rpartition(':')
    if not sep:
        module_part, attr = spec, 'app'
    if not module_part or not attr:
        raise LoadError('APP must be "module:attribute" or "path/to/file.py:attribute", not %r' % spec)
    if module_part.endswith('.py') or os.sep in module_part:
        module = _load_file(module_part, app_dir)
    else:
        path = os.path.abspath(app_dir)
        if path not in sys.path:
            sys.path.insert(0, path)
        try:
            module = importlib.import_module(module_part)
        except ModuleNotFoundError as exc:
            if exc.name != module_part.split('.')[0] and exc.name != module_part:
                raise
            raise LoadError('could not import module %r (app dir %s)' % (module_part, path)) from None
    obj = module
    for part in attr.split('.'):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LoadError('attribute %r not found in module %r' % (attr, module_part)) from None
    return obj


def _load_file(path, app_dir):
    full = path if os.path.isabs(path) else os.path.join(app_dir, path)
    full = os.path.abspath(full)
    if not os.path.isfile(full):
        raise LoadError('no such file: %s' % full)
    directory = os.path.dirname(full)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = os.path.splitext(os.path.basename(full))[0]
    spec = importlib.util.spec_from_file_location(name, full)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _positional_count(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    n = 0
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
        elif p.kind == p.VAR_POSITIONAL:
            return None
    return n


def detect_interface(app):
    """'pagi' (marked with a true `pagi_app` attribute), 'asgi' (ASGI 3: a
    coroutine callable of scope, receive, send) or 'wsgi' (a plain callable of
    environ, start_response)."""
    if getattr(app, 'pagi_app', False) is True:
        return 'pagi'
    if inspect.isclass(app):
        raise LoadError('the app is a class (an ASGI 2 double callable?): only ASGI 3 and WSGI are supported')
    if asyncio.iscoroutinefunction(app):
        return 'asgi'
    call = getattr(app, '__call__', None)
    if call is not None and asyncio.iscoroutinefunction(call):
        return 'asgi'
    if not callable(app):
        raise LoadError('the app %r is not callable' % (app,))
    n = _positional_count(app)
    if n == 3:
        return 'asgi'       # a plain function returning an awaitable
    return 'wsgi'
