"""A WSGI (PEP 3333) app on an http scope, run like a gunicorn sync worker:
the worker's concurrency is 1 and the app is called directly in the loop
thread. The request body is read (with credit) into wsgi.input first -- a
SpooledTemporaryFile that moves to disk past receiveWindow bytes -- then the
app runs; its iterable is streamed out within the send window (the loop
answers heartbeats between chunks) and close() is called.
"""

import sys
import tempfile

from . import validate
from .asgi_http import HttpScope, request_line
from .codec import encode_start
from .log import log_exception, exception_text
from .validate import SendError


def _reason_status(status):
    try:
        code = int(status.split(None, 1)[0])
    except (ValueError, IndexError, AttributeError):
        raise SendError('invalid WSGI status %r' % (status,)) from None
    return validate.status(code)


class FileWrapper:
    """wsgi.file_wrapper: iterates a file-like object in blocks."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, 'close'):
            self.close = filelike.close

    def __iter__(self):
        read = self.filelike.read
        size = self.blksize
        while True:
            data = read(size)
            if not data:
                return
            yield data


def build_environ(scope, body):
    path = scope['path'].encode('utf-8').decode('latin-1')
    root = scope['root_path']
    if root and path.startswith(root):
        path = path[len(root):]
    server = scope['server'] or ('', None)
    environ = {
        'REQUEST_METHOD': scope['method'],
        'SCRIPT_NAME': root.encode('utf-8').decode('latin-1'),
        'PATH_INFO': path,
        'QUERY_STRING': scope['query_string'].decode('latin-1'),
        'SERVER_NAME': server[0] or 'localhost',
        'SERVER_PORT': str(server[1]) if server[1] is not None else '0',
        'SERVER_PROTOCOL': 'HTTP/' + (scope['http_version'] or '1.1'),
        'wsgi.version': (1, 0),
        'wsgi.url_scheme': scope['scheme'] or 'http',
        'wsgi.input': body,
        'wsgi.errors': sys.stderr,
        'wsgi.multithread': False,
        'wsgi.multiprocess': True,
        'wsgi.run_once': False,
        'wsgi.file_wrapper': FileWrapper,
        # request_id and the drain future, as in the ASGI scope's extensions.
        'pagi.gateway': scope['extensions']['pagi.gateway'],
    }
    client = scope['client']
    if client:
        environ['REMOTE_ADDR'] = client[0]
        environ['REMOTE_PORT'] = str(client[1])
    peer = scope.get('pagi.peer')
    if peer:
        # The TCP peer when REMOTE_ADDR came from a trusted proxy's header.
        environ['pagi.peer'] = peer
    for name, value in scope['headers']:
        key = name.decode('latin-1').upper().replace('-', '_')
        value = value.decode('latin-1')
        if key == 'CONTENT_TYPE' or key == 'CONTENT_LENGTH':
            environ[key] = value
            continue
        key = 'HTTP_' + key
        if key in environ:
            sep = '; ' if key == 'HTTP_COOKIE' else ','
            environ[key] += sep + value
        else:
            environ[key] = value
    return environ


class WsgiScope(HttpScope):
    __slots__ = ()

    async def run(self, app):
        failed = False
        message = ''
        try:
            body = await self._read_body()
            if body is not None:
                await self._call(app, body)
        except Exception as exc:
            failed = True
            message = exception_text(exc)
            log_exception(request_line(self.scope), exc)
        except BaseException as exc:
            self._finish(True, exception_text(exc) or type(exc).__name__)
            raise
        self._finish(failed, message)

    async def _read_body(self):
        spool = tempfile.SpooledTemporaryFile(max_size=self.w.receive_window)
        while True:
            ev = await self.receive()
            if ev['type'] != 'http.request':
                spool.close()
                return None          # the client left before the body arrived
            if ev['body']:
                spool.write(ev['body'])
            if not ev['more_body']:
                break
        spool.seek(0)
        return spool

    async def _call(self, app, body):
        environ = build_environ(self.scope, body)
        response = []           # [status, flat headers] once start_response ran
        written = []            # legacy write() output

        def start_response(status, headers, exc_info=None):
            if exc_info:
                try:
                    if self.started:
                        raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None
            elif response:
                raise SendError('start_response called twice without exc_info')
            code = _reason_status(status)
            flat = validate.flat_headers(
                (n.lower().encode('latin-1'), v.encode('latin-1')) for n, v in headers)
            response[:] = [code, flat]
            return written.append

        result = app(environ, start_response)
        try:
            pending = None
            for chunk in written:
                pending = await self._emit(response, pending, chunk)
            written = None
            for chunk in result:
                if chunk:
                    pending = await self._emit(response, pending, chunk)
                if self.disconnected:
                    break
            if not response:
                raise SendError('the WSGI app returned without calling start_response')
            if not self.started:
                self.started = True
                self.w.send_frame(_start(self.id, response))
            if not self.disconnected:
                self.body_done = self.complete = True
                await self._send_body(pending or b'', False)
        finally:
            close = getattr(result, 'close', None)
            if close is not None:
                close()

    async def _emit(self, response, pending, chunk):
        """Sends the previous chunk (so the last one can carry more=False)."""
        if not response:
            raise SendError('the WSGI app produced body before calling start_response')
        if type(chunk) is not bytes:
            chunk = validate.body(chunk)
        if not self.started:
            self.started = True
            self.w.send_frame(_start(self.id, response))
        if pending:
            await self._send_body(pending, True)
        return chunk



def _start(sid, response):
    return encode_start(sid, response[0], response[1])
