"""Process integration end to end: sd_notify READY/STOPPING/WATCHDOG
received on a test datagram socket (path and abstract), socket activation
with inherited TCP v4/v6 and Unix sockets started the way systemd does,
the pid file, and dropping privileges to another user (workers too)."""
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from conftest import EVENT_TIMEOUT, GATEWAY, Gateway
from httpraw import wait_until
from ops_support import Admin, admin_address, get, ops_config

HERE = os.path.dirname(__file__)


class NotifySocket:
    def __init__(self, name):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + name[1:] if name.startswith("@") else name)
        self.sock.settimeout(EVENT_TIMEOUT)

    def receive(self):
        return self.sock.recv(4096).decode()

    def wait_for(self, prefix):
        while True:
            msg = self.receive()
            if msg.startswith(prefix):
                return msg

    def close(self):
        self.sock.close()
        if not self.name.startswith("@") and os.path.exists(self.name):
            os.unlink(self.name)


def start_env(env, args, cwd):
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return Gateway(args, cwd=cwd)
    finally:
        os.environ.clear()
        os.environ.update(old)


@pytest.mark.parametrize("abstract", [False, True])
def test_sd_notify_ready_watchdog_stopping(tmp_path, abstract):
    name = f"@pagi-notify-{os.getpid()}" if abstract else f"/tmp/pagi-notify-{os.getpid()}.sock"
    notify = NotifySocket(name)
    gw = start_env({"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "200000"},
                   ["--config", ops_config(tmp_path)], str(tmp_path))
    try:
        ready = notify.wait_for("READY=1")
        gw.wait_ready()
        fields = dict(line.split("=", 1) for line in ready.split("\n"))
        assert fields["MAINPID"] == str(gw.proc.pid)
        assert fields["STATUS"] == f"listening on {gw.url}"
        assert notify.wait_for("WATCHDOG=1") == "WATCHDOG=1"
        # Workers do not inherit the variables (systemd would reject their messages).
        for kid in child_pids(gw.proc.pid):
            with open(f"/proc/{kid}/environ", "rb") as f:
                assert b"NOTIFY_SOCKET=" not in f.read()
        gw.signal(signal.SIGTERM)
        assert notify.wait_for("STOPPING=1").startswith("STOPPING=1")
        assert gw.wait_exit() == 0
    finally:
        gw.stop()
        notify.close()


def test_sd_notify_can_be_switched_off(tmp_path):
    name = f"/tmp/pagi-notify-off-{os.getpid()}.sock"
    notify = NotifySocket(name)
    notify.sock.settimeout(0.5)
    gw = start_env({"NOTIFY_SOCKET": name}, ["--config", ops_config(tmp_path, top={"systemd_notify": False})],
                   str(tmp_path))
    try:
        gw.wait_ready()
        assert get(gw, "/")[0] == 200
        with pytest.raises(socket.timeout):
            notify.receive()
    finally:
        gw.stop()
        notify.close()


def test_socket_activation_tcp4_tcp6_unix(tmp_path):
    unix_path = f"/tmp/pagi-act-{os.getpid()}.sock"
    cfg = ops_config(tmp_path, listen=["127.0.0.1:1"])  # must be ignored: systemd's sockets win
    args = [sys.executable, os.path.join(HERE, "ops_socket_launcher.py"), "--tcp4", "--tcp6", "--unix", unix_path,
            "--", GATEWAY, "--config", cfg]
    gw = LaunchedGateway(args, str(tmp_path))
    try:
        gw.wait_for("socket activation: 3 listening socket(s)")
        addrs = [gw.wait_for("] listening on ").split("listening on ", 1)[1].strip() for _ in range(3)]
        assert addrs[0].startswith("http://127.0.0.1:") and not addrs[0].endswith(":1")
        assert addrs[1].startswith("http://[::1]:")
        assert addrs[2] == f"unix:{unix_path}"
        for a in addrs[:2]:
            host, port = a.split("://", 1)[1].rsplit(":", 1)
            with socket.create_connection((host.strip("[]"), int(port)), timeout=EVENT_TIMEOUT) as s:
                s.sendall(b"GET /v HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert s.recv(100).startswith(b"HTTP/1.1 200")
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(EVENT_TIMEOUT)
            s.connect(unix_path)
            s.sendall(b"GET /u HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 200")
        # The workers did not inherit the listening sockets.
        for kid in child_pids(gw.proc.pid):
            inode_of = lambda pid, fd: os.readlink(f"/proc/{pid}/fd/{fd}")  # noqa: E731
            gw_socks = {inode_of(gw.proc.pid, fd) for fd in (3, 4, 5)}
            kid_socks = {os.readlink(f"/proc/{kid}/fd/{fd}") for fd in os.listdir(f"/proc/{kid}/fd")
                         if os.path.exists(f"/proc/{kid}/fd/{fd}")}
            assert not gw_socks & kid_socks
        gw.signal(signal.SIGTERM)
        assert gw.wait_exit() == 0
        assert os.path.exists(unix_path)  # systemd owns the socket file, not the gateway
    finally:
        gw.stop()
        if os.path.exists(unix_path):
            os.unlink(unix_path)


class LaunchedGateway(Gateway):
    """A Gateway whose process is started through another program."""

    def __init__(self, argv, cwd):
        import queue
        self.args = argv
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = queue.Queue()
        self.log = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.host = self.port = self.unix_path = None


def child_pids(pid):
    from conftest import child_pids as kids
    return kids(pid)


def test_pid_file(start_gateway, tmp_path):
    pid_file = tmp_path / "gw.pid"
    gw = start_gateway(config=ops_config(tmp_path, top={"pid_file": str(pid_file)}))
    wait_until(lambda: pid_file.exists(), "the pid file")
    assert pid_file.read_text() == f"{gw.proc.pid}\n"
    gw.stop()
    assert not pid_file.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_drops_privileges_after_binding(start_gateway, tmp_path):
    import pwd
    nobody = pwd.getpwnam("nobody")
    os.chmod(tmp_path, 0o755)
    cfg = ops_config(tmp_path, top={"user": "nobody"}, listen=["127.0.0.1:0"], admin={"listen": "127.0.0.1:0"})
    gw = start_gateway(config=cfg, ready=False)
    admin = Admin(admin_address(gw))
    gw.wait_ready()
    assert "running as user nobody" in gw.output()

    def uids(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return {int(x) for x in line.split()[1:]}

    assert uids(gw.proc.pid) == {nobody.pw_uid}
    kids = wait_until(lambda: child_pids(gw.proc.pid), "workers")
    for kid in kids:
        assert uids(kid) == {nobody.pw_uid}
    assert get(gw, "/")[0] == 200
    assert admin.get("/readyz")[0] == 200


def test_unknown_user_is_a_startup_error(start_gateway, tmp_path):
    gw = start_gateway(config=ops_config(tmp_path, top={"user": "no-such-user-pagi"}), ready=False)
    gw.wait_for('user "no-such-user-pagi" does not exist')
    assert gw.wait_exit() == 1
