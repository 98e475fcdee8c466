"""A real browser over HTTP/2: headless Chromium (Debian `chromium`) loads a
page over h2 (TLS, a test CA, --ignore-certificate-errors), and its script
opens a WebSocket and an EventSource on the same origin. Chromium sends the
WebSocket as an RFC 8441 Extended CONNECT on the page's h2 connection when
the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL; the app
(apps/h2_browser.pl) answers with its scope's http_version, so "via HTTP/2"
proves both went over HTTP/2."""
import os
import shutil
import subprocess

import pytest

from conftest import APPS, EVENT_TIMEOUT
from h2tls import make_pki, tls_entry


def test_chromium_websocket_and_eventsource_over_h2(start_gateway, tmp_path):
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium not installed")
    pki = make_pki(tmp_path)
    config = tmp_path / "gateway.yaml"
    config.write_text(f"listen:\n  - {tls_entry(pki)}\nlog_level: info\npools:\n  app:\n"
                      f"    app: {os.path.join(APPS, 'h2_browser.pl')}\n    workers: 1\n")
    gw = start_gateway(config=str(config))
    # The page reports back to the app; the browser is stopped once it did.
    chromium = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                                 "--ignore-certificate-errors", f"--user-data-dir={tmp_path / 'profile'}",
                                 f"https://127.0.0.1:{gw.port}/page"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        report = gw.wait_for("browser report: ", timeout=EVENT_TIMEOUT * 2)
    finally:
        chromium.kill()
        chromium.wait()
    results = report.split("browser report: ", 1)[1].split("|")
    assert results == ["ws echo: hello via HTTP/2", "sse via HTTP/2"]
