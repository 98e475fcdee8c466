"""TLS listeners end to end: HTTP/1.1 and h2 over TLS with a test CA, the tls
scope extension (never on cleartext), client certificates optional and
required, and ALPN."""
import socket
import ssl
import subprocess

import pytest

from conftest import Gateway, EVENT_TIMEOUT
from h2tls import make_pki, write_config, tls_entry, curl, curl_json, headers_of, need


@pytest.fixture
def pki(tmp_path):
    need("openssl")
    need("curl")
    return make_pki(tmp_path)


def start(start_gateway, tmp_path, listen, **kw):
    return start_gateway(config=write_config(tmp_path, listen, **kw))


def test_http11_over_tls_has_https_scheme_and_tls_extension(start_gateway, tmp_path, pki):
    gw = start(start_gateway, tmp_path, [tls_entry(pki)])
    assert gw.log[-1].split("listening on ")[1].startswith("https://")
    url = f"https://localhost:{gw.port}/h2scope?x=1"
    scope = curl_json("--http1.1", "--cacert", pki["ca"], url)
    assert scope["http_version"] == "1.1"
    assert scope["scheme"] == "https"
    assert "tls" in scope["extensions"]
    tls = scope["tls"]
    assert tls["tls_version"] in (0x0303, 0x0304)
    assert isinstance(tls["cipher_suite"], int) and tls["cipher_suite"] > 0
    assert tls["server_cert"].startswith("-----BEGIN CERTIFICATE-----")
    assert tls["client_cert_chain"] == []
    assert tls["client_cert_name"] is None
    assert tls["client_cert_error"] is None


def test_post_body_over_tls(start_gateway, tmp_path, pki):
    gw = start(start_gateway, tmp_path, [tls_entry(pki)])
    body = b"z" * 300000
    out = subprocess.run(["curl", "-s", "--http1.1", "--cacert", pki["ca"], "--data-binary", "@-",
                          f"https://localhost:{gw.port}/echo"], input=body, stdout=subprocess.PIPE,
                         timeout=EVENT_TIMEOUT)
    assert out.stdout == body


def test_cleartext_scope_has_no_tls_extension(start_gateway, tmp_path, pki):
    gw = start(start_gateway, tmp_path, ["\"127.0.0.1:0\""])
    scope = curl_json(f"http://127.0.0.1:{gw.port}/h2scope")
    assert scope["scheme"] == "http"
    assert "tls" not in scope["extensions"]
    assert scope["tls"] is None


def test_alpn_selects_h2_and_http11(start_gateway, tmp_path, pki):
    gw = start(start_gateway, tmp_path, [tls_entry(pki)])
    for protocols, expected in ((["h2", "http/1.1"], "h2"), (["http/1.1"], "http/1.1")):
        ctx = ssl.create_default_context(cafile=pki["ca"])
        ctx.set_alpn_protocols(protocols)
        with socket.create_connection(("127.0.0.1", gw.port), timeout=EVENT_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                assert s.selected_alpn_protocol() == expected


def test_alpn_list_can_disable_h2(start_gateway, tmp_path, pki):
    gw = start(start_gateway, tmp_path, [tls_entry(pki, alpn=["http/1.1"])])
    scope = curl_json("--cacert", pki["ca"], f"https://localhost:{gw.port}/h2scope")
    assert scope["http_version"] == "1.1"


def test_h2_over_tls_scope(start_gateway, tmp_path, pki):
    gw = start(start_gateway, tmp_path, [tls_entry(pki)])
    scope = curl_json("--http2", "--cacert", pki["ca"], f"https://localhost:{gw.port}/h2scope")
    assert scope["http_version"] == "2"
    assert scope["scheme"] == "https"
    assert "tls" in scope["extensions"]
    assert scope["tls"]["tls_version"] in (0x0303, 0x0304)


def test_optional_client_certificate(start_gateway, tmp_path, pki):
    gw = start(start_gateway, tmp_path, [tls_entry(pki, client_ca=pki["ca"], verify_client="optional")])
    url = f"https://localhost:{gw.port}/h2scope"
    anon = curl_json("--cacert", pki["ca"], url)
    assert anon["tls"]["client_cert_chain"] == []
    assert anon["tls"]["client_cert_name"] is None
    with_cert = curl_json("--cacert", pki["ca"], "--cert", pki["client_cert"], "--key", pki["client_key"], url)
    tls = with_cert["tls"]
    assert tls["client_cert_name"] == "CN=alice,O=Example"
    assert len(tls["client_cert_chain"]) >= 1
    assert tls["client_cert_chain"][0].startswith("-----BEGIN CERTIFICATE-----")
    assert tls["client_cert_error"] is None
    rogue = curl_json("--cacert", pki["ca"], "--cert", pki["rogue_cert"], "--key", pki["rogue_key"], url)
    assert rogue["tls"]["client_cert_name"] == "CN=rogue"
    assert rogue["tls"]["client_cert_error"]


def test_required_client_certificate(start_gateway, tmp_path, pki):
    gw = start(start_gateway, tmp_path, [tls_entry(pki, client_ca=pki["ca"], verify_client="required")])
    url = f"https://localhost:{gw.port}/h2scope"
    refused = curl("--cacert", pki["ca"], url, check=False)
    assert refused.returncode != 0
    scope = curl_json("--cacert", pki["ca"], "--cert", pki["client_cert"], "--key", pki["client_key"], url)
    assert scope["tls"]["client_cert_name"] == "CN=alice,O=Example"


def test_bad_certificate_fails_startup(start_gateway, tmp_path, pki):
    entry = tls_entry(pki).replace(pki["key"], pki["client_key"])  # key does not match
    gw = start_gateway(config=write_config(tmp_path, [entry]), ready=False)
    assert gw.wait_exit() != 0
    assert "client.key" in gw.output() and "mismatch" in gw.output()
