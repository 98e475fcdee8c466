"""A fake gateway for tests: the gateway's end of a socketpair, speaking the
wire protocol with pagi_worker.codec, to a real bin/pagi-worker-python
subprocess that inherits the other end as PAGI_WORKER_FD."""

import os
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pagi_worker import codec  # noqa: E402

WORKER = os.path.join(ROOT, 'bin', 'pagi-worker-python')
APPS = os.path.join(ROOT, 'tests', 'apps')
PYTHON = '/usr/bin/python3'
TAG = codec.TAG
MEMBER = codec.MEMBER
# A deadline for a worker that stops answering: a failing test, not a sync point.
DEADLINE_S = 20


class FakeGateway:
    def __init__(self, app, *args, app_dir=APPS, env=None, pass_fds=()):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(DEADLINE_S)
        e = dict(os.environ)
        e['PAGI_WORKER_FD'] = str(theirs.fileno())
        e.pop('PYTHONPATH', None)
        if env:
            e.update(env)
        self.proc = subprocess.Popen(
            [PYTHON, WORKER, '--app-dir', app_dir, *args, app],
            env=e, pass_fds=(theirs.fileno(),) + tuple(pass_fds), stderr=subprocess.PIPE)
        theirs.close()
        self.buf = b''
        self.pending = []
        self.next_scope = 1
        self.welcome = None

    # --- wire -------------------------------------------------------------
    def send(self, scope, member, payload=None):
        self.sock.sendall(codec.encode(scope, TAG[member], payload))

    def send_many(self, msgs):
        self.sock.sendall(b''.join(codec.encode(s, TAG[m], p) for s, m, p in msgs))

    def recv(self):
        """Next message as (scope, member name, payload); None at EOF."""
        while not self.pending:
            msgs, pos = codec.split_frames(self.buf)
            self.buf = self.buf[pos:]
            if msgs:
                self.pending.extend(msgs)
                break
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            self.buf += data
        scope, tag, payload = self.pending.pop(0)
        return scope, MEMBER[tag], payload

    def expect(self, member, scope=None):
        m = self.recv()
        assert m is not None, 'EOF while waiting for %s' % member
        assert m[1] == member, 'expected %s, got %r' % (member, m)
        if scope is not None:
            assert m[0] == scope, 'expected scope %d, got %r' % (scope, m)
        return m[2]

    # --- conversation --------------------------------------------------------
    def handshake(self, lifespan='off', send_window=65536, receive_window=65536,
                  max_message_bytes=16 << 20, body_ring_bytes=0):
        hello = self.expect('hello', 0)
        self.welcome = {
            'protocolVersion': 1, 'workerId': 1, 'sendWindow': send_window,
            'receiveWindow': receive_window, 'heartbeatIntervalMs': 1000,
            'lifespan': lifespan, 'maxMessageBytes': max_message_bytes, 'pool': 'default',
            'bodyRingBytes': body_ring_bytes,
        }
        self.send(0, 'welcome', self.welcome)
        return hello

    def start_lifespan(self):
        sid = self.new_scope()
        self.send_many([(sid, 'open', {'type': 'lifespan'}), (sid, 'lifespanStartup', None)])
        return sid, self.recv()

    def new_scope(self):
        sid = self.next_scope
        self.next_scope += 1
        return sid

    def open_http(self, method='GET', path='/', query=b'', headers=(), body=b'', more=False,
                  expect_continue=False, has_body=None, **extra):
        sid = self.new_scope()
        flat = []
        for n, v in headers:
            flat += [n, v]
        m = {
            'type': 'http', 'httpVersion': '1.1', 'method': method, 'scheme': 'http',
            'path': path, 'rawPath': path.encode(), 'queryString': query, 'rootPath': '',
            'headers': flat, 'clientHost': '127.0.0.1', 'clientPort': 40000,
            'serverHost': '127.0.0.1', 'serverPort': 8080,
            'hasBody': (not expect_continue) if has_body is None else has_body,
            'body': body, 'more': more, 'expectContinue': expect_continue,
        }
        m.update(extra)
        self.send(sid, 'open', m)
        return sid

    def response(self, sid):
        """Collects one complete response for sid: (status, headers, body, end)."""
        start = self.expect('httpResponseStart', sid)
        body = b''
        while True:
            s, member, p = self.recv()
            assert s == sid, (s, member, p)
            if member == 'httpResponseBody':
                body += p['body']
                if not p['more']:
                    break
            elif member == 'scopeEnd':
                return start['status'], _pairs(start['headers']), body, p
            else:
                raise AssertionError('unexpected %s %r' % (member, p))
        end = self.expect('scopeEnd', sid)
        return start['status'], _pairs(start['headers']), body, end

    def shutdown(self):
        """Sends shutdown, expects exit 0; returns the worker's stderr."""
        try:
            self.send(0, 'shutdown')
        except OSError:
            pass
        return self.finish()

    def finish(self, expect_code=0):
        try:
            while self.recv() is not None:
                pass
        except OSError:
            pass
        code = self.proc.wait(DEADLINE_S)
        err = self.proc.stderr.read().decode(errors='replace')
        self.proc.stderr.close()
        self.sock.close()
        assert code == expect_code, 'worker exit %r, stderr:\n%s' % (code, err)
        return err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr and not self.proc.stderr.closed:
            self.proc.stderr.close()
        self.sock.close()


def _pairs(flat):
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
