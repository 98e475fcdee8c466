"""TLS certificates: --check-config loads them (missing, bad and mismatched
files fail with exit 2 and the file named), and SIGHUP re-reads them without
dropping connections: a new connection sees the new certificate, one opened
before keeps working, and a bad new file keeps the old certificate."""
import http.client
import shutil
import signal
import ssl
import subprocess

import pytest

from conftest import GATEWAY, EVENT_TIMEOUT
from h2tls import make_pki, need, tls_entry, write_config


@pytest.fixture
def pkis(tmp_path):
    need("openssl")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return make_pki(tmp_path / "a"), make_pki(tmp_path / "b")


def der(pem_path):
    return ssl.PEM_cert_to_DER_cert(open(pem_path).read().split("-----END CERTIFICATE-----")[0]
                                    + "-----END CERTIFICATE-----\n")


def check(config):
    return subprocess.run([GATEWAY, "--config", config, "--check-config"], capture_output=True, text=True,
                          timeout=EVENT_TIMEOUT)


def test_check_config_loads_certificates(tmp_path, pkis):
    a, b = pkis
    ok = check(write_config(tmp_path, [tls_entry(a)]))
    assert ok.returncode == 0, ok.stderr
    missing = check(write_config(tmp_path, [tls_entry({**a, "cert": str(tmp_path / "nope.pem")})]))
    assert missing.returncode == 2 and "nope.pem" in missing.stderr
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    bad = check(write_config(tmp_path, [tls_entry({**a, "key": str(junk)})]))
    assert bad.returncode == 2 and "junk.pem" in bad.stderr
    mismatched = check(write_config(tmp_path, [tls_entry({**a, "key": b["key"]})]))
    assert mismatched.returncode == 2 and b["key"] in mismatched.stderr
    assert "mismatch" in mismatched.stderr or "does not match" in mismatched.stderr
    bad_ca = check(write_config(tmp_path, [tls_entry(a, client_ca=str(junk), verify_client="optional")]))
    assert bad_ca.returncode == 2 and "client_ca" in bad_ca.stderr


def connect(gw):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", gw.port, context=ctx, timeout=EVENT_TIMEOUT)
    conn.connect()
    return conn


def get(conn, path="/h2scope"):
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    return r.status


def test_sighup_reloads_without_dropping_connections(start_gateway, tmp_path, pkis):
    a, b = pkis
    live = {"cert": str(tmp_path / "live.pem"), "key": str(tmp_path / "live.key")}
    shutil.copy(a["cert"], live["cert"])
    shutil.copy(a["key"], live["key"])
    gw = start_gateway(config=write_config(tmp_path, [tls_entry(live)], http={"keepalive_timeout": 60}))
    old = connect(gw)
    assert get(old) == 200
    assert old.sock.getpeercert(binary_form=True) == der(a["cert"])

    shutil.copy(b["cert"], live["cert"])
    shutil.copy(b["key"], live["key"])
    gw.signal(signal.SIGHUP)
    gw.wait_for("reload: TLS certificates re-read")
    new = connect(gw)
    assert new.sock.getpeercert(binary_form=True) == der(b["cert"])
    assert get(new) == 200
    assert get(old) == 200  # the connection made before the reload goes on
    assert old.sock.getpeercert(binary_form=True) == der(a["cert"])

    # A broken file: the error is logged and the current certificate stays.
    (tmp_path / "live.key").write_text("garbage\n")
    gw.signal(signal.SIGHUP)
    gw.wait_for("TLS certificate not reloaded")
    again = connect(gw)
    assert again.sock.getpeercert(binary_form=True) == der(b["cert"])
    assert get(again) == 200
    for c in (old, new, again):
        c.close()
