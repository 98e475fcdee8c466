"""The error log: a worker's stderr is captured line by line and logged
with its pool and pid (text and JSON), long lines are cut at the cap, a
last line without newline still arrives, and in JSON mode every line the
gateway writes parses as one JSON object with the stable fields."""
import json
import os

from conftest import APPS
from ops_support import get

APP = os.path.join(APPS, "stderr_app.pl")
CAP = 16 * 1024  # workers/stderr_reader.hpp max_stderr_line


def config(tmp_path, fmt):
    path = tmp_path / "gateway.yaml"
    path.write_text("\n".join([
        'listen: "127.0.0.1:0"', "log_level: info", f"log_format: {fmt}",
        "pools:", "  web:", f"    app: {APP}", "    workers: 1", ""]))
    return str(path)


def start_json(start_gateway, tmp_path):
    """The harness reads the port from a text line; here it is inside JSON."""
    gw = start_gateway(config=config(tmp_path, "json"), ready=False)
    rec = json.loads(gw.wait_for("listening on "))
    host, port = rec["message"].split("://", 1)[1].rstrip("/").rsplit(":", 1)
    gw.host, gw.port = host, int(port)
    return gw


def pid_of(gw, path):
    status, _, body = get(gw, path)
    assert status == 200
    return int(body)


def test_text_lines_tagged_with_pool_and_pid(start_gateway, tmp_path):
    gw = start_gateway(config=config(tmp_path, "text"))
    pid = pid_of(gw, "/say?hello=1")
    line = gw.wait_for("said: hello=1")
    assert f"[warning] [pool web pid {pid}] said: hello=1" in line, line
    pid_of(gw, "/long")
    pieces = [gw.wait_for(f"[pool web pid {pid}] xxxx") for _ in range(3)]
    lengths = [len(p.split(f"[pool web pid {pid}] ", 1)[1]) for p in pieces]
    assert lengths == [CAP, CAP, 40000 - 2 * CAP], lengths


def test_json_error_log(start_gateway, tmp_path):
    gw = start_json(start_gateway, tmp_path)
    pid = pid_of(gw, "/say?x=%22y%22")
    said = json.loads(gw.wait_for("said: x=%22y%22"))
    assert said["message"] == "said: x=%22y%22" and said["level"] == "warn"
    assert said["pool"] == "web" and said["pid"] == pid
    assert said["time"].endswith("Z") and "T" in said["time"]
    assert list(said)[:3] == ["time", "level", "message"]
    pid_of(gw, "/bytes")
    raw = json.loads(gw.wait_for(" end\""))
    assert raw["message"] == "q\"b\\t\t\x01\u00ff end" and raw["pid"] == pid
    # The worker exits with a partial line: logged at EOF; the gateway's own
    # lines about it carry no pool/pid fields but still parse.
    get(gw, "/partial")
    partial = json.loads(gw.wait_for("no newline yet"))
    assert partial["pid"] == pid and partial["message"] == "no newline yet"
    again = pid_of(gw, "/say?again")  # served by the replacement
    assert again != pid and json.loads(gw.wait_for("said: again"))["pid"] == again
    gw.stop()
    lines = [line for line in gw.log if line.strip()]
    assert len(lines) > 5
    for line in lines:
        rec = json.loads(line)  # every line the gateway wrote
        assert {"time", "level", "message"} <= rec.keys(), rec
        assert rec["level"] in ("trace", "debug", "info", "warn", "error", "critical")
    started = [json.loads(line) for line in lines if "listening on" in line]
    assert started and "pid" not in started[0]
    # The pool's report of the lost worker names it in fields too.
    lost = [rec for rec in map(json.loads, lines) if rec["level"] == "error" and rec.get("pid") == pid]
    assert lost and lost[0]["pool"] == "web", lines


def test_last_words_at_a_graceful_stop_are_logged(start_gateway, tmp_path):
    gw = start_gateway(config=config(tmp_path, "text"))
    pid = pid_of(gw, "/say?x")
    gw.stop()  # SIGTERM: lifespan shutdown, the worker exits, the gateway exits
    assert gw.proc.returncode == 0
    (line,) = [line for line in gw.log if f"lifespan shutdown {pid}" in line]
    assert f"[pool web pid {pid}] lifespan shutdown {pid}" in line, line


def test_bad_log_format_is_a_config_error(start_gateway, tmp_path):
    gw = start_gateway(config=config(tmp_path, "yaml"), ready=False)
    assert "text, json" in gw.wait_for("log_format")
    assert gw.wait_exit() == 2
