"""How each compared server is started for a scenario: an argv, an
environment and a temp dir. bench/run owns the process lifecycle."""

import os
import shutil
import subprocess

APPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "apps")
REPO = os.path.dirname(os.path.dirname(APPS))


def perl_xs_problem(sdk=None):
    """Why the Perl workers of SDK directory `sdk` (default: $PAGI_PERL_SDK,
    else the tree's sdk/perl) would run the pure codec, or None. A checkout
    that touches Worker.xs leaves the built accelerator older than its source,
    and the workers then fall back to pure Perl with only a line in their log:
    a benchmark of that says nothing about the real thing."""
    if os.environ.get("PAGI_WORKER_PURE"):
        return None  # asked for on purpose
    sdk = sdk or os.environ.get("PAGI_PERL_SDK") or os.path.join(REPO, "sdk", "perl")
    probe = subprocess.run(
        ["perl", "-I" + os.path.join(sdk, "lib"), "-MPAGI::Gateway::Worker::XS",
         "-e", "exit(PAGI::Gateway::Worker::XS::load() ? 0 : 1)"],
        capture_output=True, text=True)
    if probe.returncode == 0:
        return None
    why = probe.stderr.strip().splitlines()
    return (f"the Perl workers would run the pure codec: {why[-1] if why else 'the XS does not load'} "
            "(PAGI_WORKER_PURE=1 measures the pure codec on purpose)")


class Server:
    name = "?"
    scenarios = ("hello", "echo", "stream")

    def available(self):
        """None when it can run, else why not."""
        return None

    def argv(self, scenario, port, cpus, tmpdir):
        raise NotImplementedError

    def env(self):
        return dict(os.environ)

    def describe(self, cpus):
        return ""


class Gateway(Server):
    name = "pagi-gateway"

    def __init__(self, binary, workers, extra_args):
        self.binary = binary
        self.workers = workers
        self.extra_args = extra_args

    def available(self):
        if not os.access(self.binary, os.X_OK):
            return f"{self.binary} not built"
        return None

    def argv(self, scenario, port, cpus, tmpdir):
        return [self.binary, "--workers", str(self.workers),
                "--listen", f"127.0.0.1:{port}", *self.extra_args,
                os.path.join(APPS, f"{scenario}.pl")]

    def env(self):
        env = dict(os.environ)
        sdk = os.path.join(REPO, "sdk", "perl", "lib")
        if os.path.isdir(sdk):
            env["PERL5LIB"] = sdk + (":" + env["PERL5LIB"] if env.get("PERL5LIB") else "")
        return env

    def describe(self, cpus):
        extra = " " + " ".join(self.extra_args) if self.extra_args else ""
        return f"`pagi-gateway --workers {self.workers}{extra} bench/apps/<scenario>.pl`"


class Starman(Server):
    name = "starman"

    def __init__(self, workers, max_requests):
        self.workers = workers
        self.max_requests = max_requests

    def available(self):
        return None if shutil.which("starman") else "starman not installed"

    def argv(self, scenario, port, cpus, tmpdir):
        # --max-requests: Starman's default (1000) re-forks a worker every
        # 1000 requests; a high value measures its steady state instead.
        return ["starman", "--workers", str(self.workers),
                "--listen", f"127.0.0.1:{port}",
                "--max-requests", str(self.max_requests),
                "--env", "deployment",
                os.path.join(APPS, f"{scenario}.psgi")]

    def describe(self, cpus):
        return (f"`starman --workers {self.workers} --max-requests {self.max_requests} "
                f"--env deployment bench/apps/<scenario>.psgi`")


class Nginx(Server):
    name = "nginx"
    scenarios = ("hello",)

    def __init__(self, binary):
        self.binary = binary

    def available(self):
        return None if os.access(self.binary, os.X_OK) else "nginx not installed"

    @staticmethod
    def worker_processes(cpus):
        return len(cpus.split(","))

    def argv(self, scenario, port, cpus, tmpdir):
        conf = os.path.join(tmpdir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""\
worker_processes {self.worker_processes(cpus)};
pid {tmpdir}/nginx.pid;
error_log {tmpdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmpdir}/body;
    proxy_temp_path {tmpdir}/proxy;
    fastcgi_temp_path {tmpdir}/fastcgi;
    uwsgi_temp_path {tmpdir}/uwsgi;
    scgi_temp_path {tmpdir}/scgi;
    default_type text/plain;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello"; }}
    }}
}}
""")
        return [self.binary, "-p", tmpdir, "-e", f"{tmpdir}/error.log",
                "-c", conf, "-g", "daemon off;"]

    def describe(self, cpus):
        return (f"nginx `return 200 \"hello\"`, worker_processes "
                f"{self.worker_processes(cpus)}, access_log off, keepalive_requests 1000000")
