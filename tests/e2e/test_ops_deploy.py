"""deploy/ checked without a cluster: the Kubernetes manifests' structure
and their timing consistency with gateway.yaml, the systemd units, the
nginx front config and the Dockerfile (runtime image holds exactly the
libraries the built binary links)."""
import configparser
import os
import re
import subprocess

import pytest
import yaml

from conftest import GATEWAY, ROOT

DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "kubernetes")


def load_all(name):
    with open(os.path.join(K8S, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def one(name, kind):
    docs = load_all(name)
    assert len(docs) == 1 and docs[0]["kind"] == kind, (name, docs)
    doc = docs[0]
    assert doc["apiVersion"] and doc["metadata"]["name"]
    return doc


@pytest.fixture(scope="module")
def manifests():
    return {
        "configmap": one("configmap.yaml", "ConfigMap"),
        "deployment": one("deployment.yaml", "Deployment"),
        "service": one("service.yaml", "Service"),
        "hpa": one("hpa.yaml", "HorizontalPodAutoscaler"),
    }


def port_of(listen):
    return int(listen.rsplit(":", 1)[1])


def test_kustomization_lists_every_manifest():
    with open(os.path.join(K8S, "kustomization.yaml")) as f:
        kust = yaml.safe_load(f)
    manifests = sorted(n for n in os.listdir(K8S) if n.endswith(".yaml") and n != "kustomization.yaml")
    assert sorted(kust["resources"]) == manifests


def test_gateway_is_a_native_sidecar_with_probes(manifests):
    gw_cfg = yaml.safe_load(manifests["configmap"]["data"]["gateway.yaml"])
    spec = manifests["deployment"]["spec"]["template"]["spec"]
    (gateway,) = [c for c in spec["initContainers"] if c["name"] == "gateway"]
    assert gateway["restartPolicy"] == "Always"
    ports = {p["name"]: p["containerPort"] for p in gateway["ports"]}
    assert ports["http"] == port_of(gw_cfg["listen"])
    assert ports["admin"] == port_of(gw_cfg["admin"]["listen"])
    assert ports["http"] != ports["admin"]
    probes = {k: gateway[k]["httpGet"] for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/livez"
    assert probes["startupProbe"]["path"] == "/livez"
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert all(p["port"] == "admin" for p in probes.values())
    # The config it reads is the ConfigMap.
    mounts = {m["name"]: m["mountPath"] for m in gateway["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["config"]["configMap"]["name"] == manifests["configmap"]["metadata"]["name"]
    assert gateway["args"] == ["--config", os.path.join(mounts["config"], "gateway.yaml")]


def test_app_container_attaches_over_the_shared_socket(manifests):
    gw_cfg = yaml.safe_load(manifests["configmap"]["data"]["gateway.yaml"])
    spec = manifests["deployment"]["spec"]["template"]["spec"]
    (gateway,) = spec["initContainers"]
    (app,) = spec["containers"]
    socket_path = gw_cfg["pools"]["app"]["attach"]
    cmd = app["command"]
    assert cmd[0] == "pagi-worker-perl"
    assert cmd[cmd.index("--connect") + 1] == socket_path
    assert cmd[cmd.index("--pool") + 1] == "app" and "app" in gw_cfg["pools"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    for c in (gateway, app):
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        assert os.path.dirname(socket_path) == mounts["sockets"]
    assert "emptyDir" in volumes["sockets"]
    assert "ports" not in app  # traffic only through the gateway


def test_shutdown_timing_is_consistent(manifests):
    gw_cfg = yaml.safe_load(manifests["configmap"]["data"]["gateway.yaml"])
    spec = manifests["deployment"]["spec"]["template"]["spec"]
    (app,) = spec["containers"]
    grace = spec["terminationGracePeriodSeconds"]
    shutdown = gw_cfg["http"]["shutdown_timeout"]
    drain = gw_cfg["pools"]["app"]["drain_timeout"]
    pre_stop = " ".join(app["lifecycle"]["preStop"]["exec"]["command"])
    assert "POST http://127.0.0.1:9901/drain" in pre_stop
    settle = int(re.search(r"sleep (\d+);", pre_stop).group(1))
    wait = int(re.search(r"seq (\d+)", pre_stop).group(1))
    assert wait <= shutdown and drain <= shutdown
    # preStop (settle + wait), then worker exit, then the gateway's own stop:
    # all inside the grace period, with room for the workers' shutdown.
    assert settle + wait + 10 <= grace
    assert shutdown < grace


def test_service_and_hpa_point_at_the_deployment(manifests):
    dep = manifests["deployment"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = manifests["service"]["spec"]
    assert svc["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in svc["ports"]] == ["http"]  # never the admin port
    hpa = manifests["hpa"]["spec"]
    assert hpa["scaleTargetRef"]["kind"] == "Deployment"
    assert hpa["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    (m,) = hpa["metrics"]
    assert m["resource"]["name"] == "cpu"
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]


def unit(name):
    p = configparser.ConfigParser(strict=False, interpolation=None)
    p.optionxform = str
    with open(os.path.join(DEPLOY, "systemd", name)) as f:
        p.read_file(f)
    return p


def seconds(text):
    return int(text.rstrip("s"))


def test_systemd_units():
    svc = unit("pagi-gateway.service")["Service"]
    assert svc["Type"] == "notify"
    assert "--config" in svc["ExecStart"] and "-HUP" in svc["ExecReload"]
    assert svc["KillSignal"] == "SIGTERM"
    # http.shutdown_timeout + pool shutdown_timeout + 2 x stop_grace (defaults 30 + 30 + 2*5)
    assert seconds(svc["TimeoutStopSec"]) >= 70
    assert seconds(svc["WatchdogSec"]) > 0
    sock = unit("pagi-gateway.socket")["Socket"]
    assert sock["Accept"] == "no"
    assert sock["Service"] == "pagi-gateway.service"
    with open(os.path.join(DEPLOY, "systemd", "pagi-gateway.socket")) as f:
        listens = [l.split("=", 1)[1].strip() for l in f if l.startswith("ListenStream=")]
    assert any(l.startswith("/") for l in listens) and any(l.startswith("[") for l in listens)


def test_nginx_front_config():
    with open(os.path.join(DEPLOY, "nginx", "pagi-gateway.conf")) as f:
        conf = f.read()
    assert conf.count("{") == conf.count("}")
    directives = {tuple(l.strip().rstrip(";").split(None, 1)) for l in conf.splitlines()
                  if l.strip() and not l.strip().startswith("#") and l.strip().endswith(";")}
    for d in [("server", "unix:/run/pagi-gateway.sock"), ("proxy_http_version", "1.1"),
              ("proxy_buffering", "off"), ("proxy_request_buffering", "off"),
              ("proxy_set_header", "Upgrade $http_upgrade"), ("proxy_set_header", "Connection $pagi_connection"),
              ("proxy_read_timeout", "1h")]:
        assert d in directives, d
    sock = unit("pagi-gateway.socket")["Socket"]
    assert "/run/pagi-gateway.sock" in open(os.path.join(DEPLOY, "systemd", "pagi-gateway.socket")).read()
    assert sock["SocketGroup"] == "www-data"


def test_dockerfile_stages_user_healthcheck_and_runtime_libraries():
    with open(os.path.join(DEPLOY, "docker", "Dockerfile")) as f:
        text = f.read()
    froms = re.findall(r"^FROM (\S+)(?: AS (\S+))?", text, re.M)
    assert froms[0] == ("debian:12", "build") and froms[-1][0] == "debian:12-slim"
    assert re.search(r"^USER pagi$", text, re.M)
    assert re.search(r"HEALTHCHECK .*\n?.*curl -fsS http://127\.0\.0\.1:9901/livez", text)
    runtime = text.split("FROM debian:12-slim", 1)[1]
    install = re.search(r"apt-get install -y --no-install-recommends(.*?)&& rm", runtime, re.S).group(1)
    packages = set(install.replace("\\", " ").split())
    assert not [p for p in packages if p.endswith("-dev")]
    # Every shared library the built gateway links comes from a listed package
    # (or from the base image's libc6/libgcc-s1/libstdc++6).
    ldd = subprocess.run(["ldd", GATEWAY], capture_output=True, text=True, check=True).stdout
    libs = [l.split("=>")[1].split()[0] for l in ldd.splitlines() if "=>" in l and "/" in l]
    for lib in libs:
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
        pkg = owner.stdout.split(":")[0]
        assert pkg in packages | {"libc6", "libgcc-s1", "libstdc++6"}, (lib, pkg)
    with open(os.path.join(DEPLOY, "docker", "gateway.yaml")) as f:
        cfg = yaml.safe_load(f)
    assert port_of(cfg["admin"]["listen"]) == 9901


def test_configmap_gateway_yaml_passes_check_config(manifests, tmp_path):
    # The ConfigMap's gateway.yaml is what the sidecar runs: the real binary
    # must accept it (an unknown or misspelt key would crash-loop the pod).
    path = tmp_path / "gateway.yaml"
    path.write_text(manifests["configmap"]["data"]["gateway.yaml"])
    done = subprocess.run([GATEWAY, "--check-config", "--config", str(path)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pool app: attach /run/pagi/app.sock" in done.stdout + done.stderr
