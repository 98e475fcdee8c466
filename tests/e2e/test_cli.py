"""The command line: --version, --help, --check-config (with file:line on
errors), bad listen addresses, and serving an APP given on the command line."""
import os
import re
import subprocess

import pytest

from conftest import APPS, GATEWAY, write_config
from httpraw import get

APP = os.path.join(APPS, "app.pl")


def run(args, cwd, timeout=60):
    out = subprocess.run([GATEWAY] + args, cwd=cwd, stdin=subprocess.DEVNULL,
                         capture_output=True, timeout=timeout)
    return out.returncode, (out.stdout + out.stderr).decode("utf-8", "replace")


def test_version(tmp_path):
    rc, out = run(["--version"], tmp_path)
    assert rc == 0, out
    assert re.search(r"\d+\.\d+\.\d+", out), out


def test_help_lists_options(tmp_path):
    rc, out = run(["--help"], tmp_path)
    assert rc == 0, out
    for flag in ("--config", "--listen", "--workers", "--concurrency", "--check-config", "--version"):
        assert flag in out, f"{flag} missing from --help:\n{out}"


def test_unknown_option_fails(tmp_path):
    rc, out = run(["--no-such-option"], tmp_path)
    assert rc != 0
    assert "no-such-option" in out, out


def test_check_config_accepts_a_good_file(tmp_path):
    config = write_config(tmp_path, "app.pl", http={"max_body_bytes": 1024},
                          pool={"concurrency": 10, "queue_size": 5})
    rc, out = run(["--check-config", "--config", config], tmp_path)
    assert rc == 0, out
    assert "listening on" not in out


BAD_CONFIGS = {
    # name: (text, line of the error, word the message must name)
    "unknown top-level key": ('listen: ["127.0.0.1:0"]\nno_such_key: 1\npools:\n  app:\n    app: APP\n',
                              2, "no_such_key"),
    "unknown http key": ('listen: ["127.0.0.1:0"]\nhttp:\n  max_body_bytez: 5\npools:\n  app:\n    app: APP\n',
                         3, "max_body_bytez"),
    "wrong type": ('listen: ["127.0.0.1:0"]\npools:\n  app:\n    app: APP\n    workers: lots\n',
                   5, "workers"),
    "impossible value": ('listen: ["127.0.0.1:0"]\npools:\n  app:\n    app: APP\n    workers: -3\n',
                         5, "workers"),
    "bad listen address": ('listen: ["127.0.0.1:99999"]\npools:\n  app:\n    app: APP\n',
                           1, "listen"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_check_config_rejects_with_file_and_line(tmp_path, case):
    text, line, word = BAD_CONFIGS[case]
    path = tmp_path / "gateway.yaml"
    path.write_text(text.replace("APP", APP))
    rc, out = run(["--check-config", "--config", str(path)], tmp_path)
    assert rc != 0, out
    assert f"gateway.yaml:{line}" in out, f"expected gateway.yaml:{line} in:\n{out}"
    assert word in out, out


def test_config_error_also_stops_a_normal_start(tmp_path):
    path = tmp_path / "gateway.yaml"
    path.write_text(BAD_CONFIGS["unknown top-level key"][0].replace("APP", APP))
    rc, out = run(["--config", str(path)], tmp_path)
    assert rc != 0 and "gateway.yaml:2" in out, out


def test_missing_config_file(tmp_path):
    rc, out = run(["--check-config", "--config", str(tmp_path / "absent.yaml")], tmp_path)
    assert rc != 0 and "absent.yaml" in out, out


@pytest.mark.parametrize("addr", ["127.0.0.1:99999", "nonsense", "127.0.0.1:", "[::1:80",
                                  "unix:", "999.1.1.1:80"])
def test_bad_listen_address_rejected(tmp_path, addr):
    rc, out = run(["--check-config", "--listen", addr, APP], tmp_path)
    assert rc != 0, f"{addr!r} accepted:\n{out}"


def test_good_listen_addresses_pass_check(tmp_path):
    rc, out = run(["--check-config", "--listen", "127.0.0.1:0", "--listen", "[::1]:0",
                   "--listen", "unix:/tmp/pe2e-check.sock", APP], tmp_path)
    assert rc == 0, out


def test_app_and_flags_on_the_command_line(start_gateway, channel, tmp_path):
    gw = start_gateway(args=["--listen", "127.0.0.1:0", "--workers", "1", "--concurrency", "4", APP])
    r = get(gw, "/hello")
    assert r.status == 200 and r.body == b"Hello, world!\n"


def test_command_line_overrides_config(start_gateway, tmp_path):
    config = write_config(tmp_path, "app.pl", listen=["127.0.0.1:1"])
    gw = start_gateway(config=config, args=["--listen", "127.0.0.1:0"])
    assert gw.port != 1
    assert get(gw, "/hello").status == 200


def test_listen_on_a_busy_port_fails(start_gateway, tmp_path):
    first = start_gateway("app.pl")
    other = tmp_path / "second"
    other.mkdir()
    config = write_config(other, "app.pl", listen=[f"127.0.0.1:{first.port}"])
    second = start_gateway(config=config, ready=False)
    rc = second.wait_exit()
    assert rc != 0, second.output()
    assert get(first, "/hello").status == 200
