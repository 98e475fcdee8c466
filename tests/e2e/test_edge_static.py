"""Static mounts and X-Sendfile/X-Accel-Redirect, end to end."""
import os

from edgehttp import connect, read_reply, request, start_edge_gateway


def make_tree(tmp_path):
    root = tmp_path / "public"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.css").write_text("body{color:red}")
    (root / "css" / "site.css.gz").write_bytes(b"GZIPPED")
    (root / "big.bin").write_bytes(bytes(range(256)) * 200)  # 51200 bytes
    (root / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "secret.txt").write_text("SECRET")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    files = tmp_path / "files"
    files.mkdir()
    (files / "report.txt").write_text("REPORT")
    return root, files


def raw(address, target):
    """A request whose target is sent exactly as given (no client normalising)."""
    with connect(address) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
        return read_reply(s)


def test_static_get_range_etag_304(tmp_path):
    root, _ = make_tree(tmp_path)
    gw, addr = start_edge_gateway(tmp_path, f"static:\n  /static: {root}\n")
    try:
        for a in (addr["v4"], addr["v6"]):
            r = request(a, "/static/css/site.css")
            assert r.status == 200
            assert r.body == b"body{color:red}"
            assert r.header("content-type") == "text/css; charset=utf-8"
            etag, lm = r.header("etag"), r.header("last-modified")
            assert etag and lm
            assert request(a, "/static/css/site.css", {"If-None-Match": etag}).status == 304
            assert request(a, "/static/css/site.css", {"If-Modified-Since": lm}).status == 304
            r = request(a, "/static/big.bin", {"Range": "bytes=100-199"})
            assert r.status == 206
            assert r.header("content-range") == "bytes 100-199/51200"
            assert r.body == (bytes(range(256)) * 200)[100:200]
            r = request(a, "/static/big.bin", {"Range": "bytes=60000-"})
            assert r.status == 416
            assert r.header("content-range") == "bytes */51200"
            r = request(a, "/static/css/site.css", {"Accept-Encoding": "gzip"})
            assert r.header("content-encoding") == "gzip" and r.body == b"GZIPPED"
            r = request(a, "/static/big.bin", method="HEAD")
            assert r.status == 200 and r.header("content-length") == "51200"
            assert request(a, "/static/").body == b"<h1>home</h1>"
            assert request(a, "/static/nope").status == 404
            assert request(a, "/static/css/site.css", method="POST").status == 405
            # Outside the mount the app answers.
            assert request(a, "/app").status == 200
    finally:
        gw.stop()


def test_traversal_attempts_refused(tmp_path):
    root, _ = make_tree(tmp_path)
    gw, addr = start_edge_gateway(tmp_path, f"static:\n  /static: {root}\n")
    try:
        for target in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/%2E%2E%2Fsecret.txt",
                       "/static/css/..%2f..%2fsecret.txt", "/static/..%5csecret.txt", "/static/escape.txt",
                       "/static/%252e%252e/secret.txt", "/static/css/%00.css"):
            for a in (addr["v4"], addr["v6"]):
                r = raw(a, target)
                assert r is None or r.status in (400, 403, 404), (target, a, r)
                assert r is None or b"SECRET" not in r.body, (target, a)
    finally:
        gw.stop()


def test_symlink_policy_follow_and_deny(tmp_path):
    root, _ = make_tree(tmp_path)
    edge = f"""static:
  /f: {{root: {root}, symlinks: follow}}
  /d: {{root: {root}, symlinks: deny}}
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        for a in (addr["v4"], addr["v6"]):
            assert request(a, "/f/escape.txt").body == b"SECRET"
            assert request(a, "/d/escape.txt").status == 404
            assert request(a, "/d/css/site.css").status == 200
    finally:
        gw.stop()


def test_x_sendfile_and_accel_redirect(tmp_path):
    root, files = make_tree(tmp_path)
    edge = f"""static:
  /protected: {{root: {files}, internal: true}}
sendfile:
  roots: [{files}]
  accel_redirect: true
"""
    gw, addr = start_edge_gateway(tmp_path, edge)
    try:
        a = addr["v4"]
        r = request(a, f"/x?sendfile={files}/report.txt")
        assert r.status == 200 and r.body == b"REPORT"
        assert r.header("x-app") == "yes" and r.header("x-sendfile") is None
        assert r.header("etag")
        r = request(a, f"/x?sendfile={files}/report.txt", {"Range": "bytes=0-2"})
        assert r.status == 206 and r.body == b"REP"
        r = request(a, f"/x?sendfile={tmp_path}/secret.txt")
        assert r.status == 403 and b"SECRET" not in r.body
        r = request(a, f"/x?sendfile={files}/../secret.txt")
        assert r.status in (403, 404) and b"SECRET" not in r.body
        r = request(a, "/x?accel=/protected/report.txt")
        assert r.status == 200 and r.body == b"REPORT"
        # The internal mount is not reachable directly.
        assert request(a, "/protected/report.txt").status == 404
    finally:
        gw.stop()
