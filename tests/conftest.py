"""Shared fixtures: a local cloud on a free port of 127.0.0.1, and playbook runs.

Every suite that talks to AWS goes through `local_cloud`; roles and playbooks
run with `run_playbook`, which points inventories/local at that cloud through
LOCALCLOUD_ENDPOINT (the inventory's only connection setting that varies).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from botocore.stub import Stubber  # noqa: E402  pylint: disable=wrong-import-position

from localcloud.common import stop_process, unmount_under  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_SESSION_TOKEN": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalCloud:
    """A running `python -m localcloud serve` process."""

    def __init__(self, state_dir, port=None, env=None):
        self.port = port or free_port()
        self.state_dir = str(state_dir)
        # Tasks run on a Docker engine only where a test asks (env LOCALCLOUD_TASKS=on and DOCKER_HOST).
        self.server_env = dict({"LOCALCLOUD_TASKS": "off"}, **(env or {}))
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self, timeout=60):
        log = open(os.path.join(self.state_dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--state-dir", self.state_dir],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env=dict(os.environ, **dict(AWS_ENV, **self.server_env)))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("local cloud exited early, see %s/server.log" % self.state_dir)
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2)
                return self
            except Exception:  # not answering yet
                time.sleep(0.2)
        raise RuntimeError("local cloud did not answer within %ss" % timeout)

    def stop(self):
        stop_process(self.proc, 15)

    def reset(self):
        """Forget every resource (moto's state, and ours where the cloud has a reset)."""
        req = urllib.request.Request(self.endpoint + "/moto-api/reset", data=b"", method="POST")
        urllib.request.urlopen(req, timeout=10)
        try:
            req = urllib.request.Request(self.endpoint + "/_localcloud/reset", data=b"", method="POST")
            urllib.request.urlopen(req, timeout=10)
        except Exception:  # older local cloud without its own state
            pass

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            aws_session_token="test")

    def env(self):
        """Environment for a subprocess (ansible-playbook, aws, git) aimed at this cloud."""
        env = dict(os.environ, **AWS_ENV)
        env.update({
            "LOCALCLOUD_ENDPOINT": self.endpoint,
            "AWS_ENDPOINT_URL": self.endpoint,
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
        })
        return env


@pytest.fixture(scope="session")
def local_cloud(tmp_path_factory):
    """One local cloud for the whole session; use `cloud` for a clean one per test."""
    cloud = LocalCloud(tmp_path_factory.mktemp("localcloud")).start()
    yield cloud
    cloud.stop()


@pytest.fixture
def cloud(local_cloud):
    """The session's local cloud, emptied before the test."""
    local_cloud.reset()
    return local_cloud


class PlaybookResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.output = proc.stdout + proc.stderr

    def data(self):
        """The JSON callback's document."""
        return json.loads(self.stdout[self.stdout.index("{"):])

    def stats(self):
        """Per-host recap {host: {ok, changed, failed, ...}} from the JSON callback."""
        return self.data()["stats"]

    def __repr__(self):
        return "<PlaybookResult rc=%s>\n%s" % (self.rc, self.output[-6000:])


def run_playbook(cloud, playbook, extra_vars=None, check=False, diff=False,
                 tags=None, json_output=True, verbosity=0, args=(), env=None,
                 inventory="inventories/local", cwd=ROOT, timeout=900):
    """Run ansible-playbook against `cloud`; returns a PlaybookResult."""
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(ROOT, inventory), playbook]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if tags:
        cmd += ["--tags", ",".join(tags)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    cmd += list(args)
    run_env = cloud.env() if cloud is not None else dict(os.environ)
    if json_output:
        run_env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    run_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, env=run_env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return PlaybookResult(proc)


def add_fault(cloud, **rule):
    """A fault rule of the local cloud (/_localcloud/faults: mode, count, seconds, match)."""
    req = urllib.request.Request(cloud.endpoint + "/_localcloud/faults", data=json.dumps(rule).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10)


def faults(cloud):
    """The fault rules still live."""
    with urllib.request.urlopen(cloud.endpoint + "/_localcloud/faults", timeout=10) as resp:
        return json.load(resp)["faults"]


def clear_faults(cloud):
    req = urllib.request.Request(cloud.endpoint + "/_localcloud/faults", method="DELETE")
    try:
        urllib.request.urlopen(req, timeout=10)
    except Exception:  # a cloud without faults has none to clear
        pass


def changed_tasks(result):
    """Names of the tasks that reported a change, for a readable failure."""
    return [task["task"]["name"] for play in result.data()["plays"] for task in play["tasks"]
            if task["hosts"].get("localhost", {}).get("changed")]


def failure_messages(result):
    """Every `msg` of a failed task (loop items included), joined: what the learner reads."""
    try:
        data = result.data()
    except ValueError:
        return result.output
    out = []
    for play in data["plays"]:
        for task in play["tasks"]:
            host = task["hosts"].get("localhost", {})
            for res in [host] + host.get("results", []):
                if res.get("failed"):
                    out.append("%s: %s" % (task["task"]["name"], res.get("msg", "")))
    return "\n".join(out) or result.output


def shown_summary(result, key):
    """The `<key>` dict of a playbook's summary: the facts its summary keeps (phase5_summary, phase6_summary...,
    set by playbooks/tasks/phaseN_summary.yml) or a dict a debug task shows under that key."""
    for play in result.data()["plays"]:
        for task in play["tasks"]:
            host = task["hosts"].get("localhost", {})
            facts, msg = host.get("ansible_facts") or {}, host.get("msg")
            if key in facts:
                return facts[key]
            if isinstance(msg, dict) and key in msg:
                return msg[key]
    raise AssertionError("the playbook showed no %s:\n%s" % (key, result.output[-3000:]))


def shown_lines(result, phase):
    """The lines the summary of Phase `phase` (5 to 8) printed, in the run's cloudlab_lang."""
    for play in result.data()["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == "Show the summary of Phase %s" % phase:
                return task["hosts"]["localhost"]["msg"]
    raise AssertionError("the playbook showed no summary of Phase %s:\n%s" % (phase, result.output[-3000:]))


@pytest.fixture
def playbook(cloud):
    """`playbook("playbooks/x.yml", extra_vars={...})` on a clean local cloud."""
    def _run(path, **kwargs):
        return run_playbook(cloud, path, **kwargs)
    return _run


@pytest.fixture
def stubs(monkeypatch):
    """{service: Stubber}: the clients a module makes answer from botocore Stubbers (unit tests).

    amazon.aws's `boto3_conn` is patched, not `_aws.client()`: the stubbed client gets the collection's
    retry policy as any other, but a Stubber answers before botocore's retry handler runs (retries are
    tested through the local cloud's faults).
    `stubs[service]` (or the module asking for that service) makes the service's client and
    its Stubber, active, once. At teardown every stubbed answer must have been used.
    """
    aws_modules = pytest.importorskip("ansible_collections.amazon.aws.plugins.module_utils.modules")

    class Stubs(dict):
        def __missing__(self, service):
            client = boto3.client(service, region_name=AWS_ENV["AWS_DEFAULT_REGION"],
                                  aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
            stubber = self[service] = Stubber(client)
            stubber.activate()
            return stubber

    stubbers = Stubs()
    monkeypatch.setattr(aws_modules, "boto3_conn", lambda *_args, **kwargs: stubbers[kwargs["resource"]].client)
    yield stubbers
    unused = {}
    for service, stubber in stubbers.items():
        try:
            stubber.assert_no_pending_responses()
        except AssertionError as e:
            unused[service] = str(e)
    assert not unused, "stubbed answers the module never asked for: %s" % unused


def run_aws_module(main, args, capsys, region="us-east-1"):
    """Run a module's main() in this process with `args`; its JSON result (unit tests with stubbed clients)."""
    from ansible.module_utils import _internal, testing
    # A module runs as on a target host: once a test file has imported controller code
    # (ansible.errors, templating), ansible-core flags the process as the controller, and
    # warnings go to the display instead of the module's result.
    was_controller, _internal.is_controller = _internal.is_controller, False
    try:
        with testing.patch_module_args(dict(args, region=region)):
            with pytest.raises(SystemExit):
                main()
    finally:
        _internal.is_controller = was_controller
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="session")
def dockerd():
    """A Docker engine of our own on a unix socket under a temp folder; DOCKER_HOST for it."""
    require_binary("dockerd")
    require_binary("docker")
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("dockerd needs root, and CI must run the Docker tests")
        pytest.skip("dockerd needs root")
    base = tempfile.mkdtemp(prefix="ecr-dockerd-", dir="/tmp")
    sock = os.path.join(base, "docker.sock")
    log = open(os.path.join(base, "dockerd.log"), "wb")
    proc = subprocess.Popen(
        ["dockerd", "--data-root", os.path.join(base, "data"), "--exec-root", os.path.join(base, "exec"),
         "--pidfile", os.path.join(base, "dockerd.pid"), "-H", "unix://" + sock,
         "--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none"],
        stdout=log, stderr=subprocess.STDOUT)
    host = "unix://" + sock
    env = dict(os.environ, DOCKER_HOST=host, DOCKER_CONFIG=os.path.join(base, "config"))
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail("dockerd exited early, see %s/dockerd.log" % base)
        if subprocess.run(["docker", "version"], env=env, capture_output=True,
                          check=False).returncode == 0:
            break
        time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("dockerd did not answer within 60 s, see %s/dockerd.log" % base)
    yield env
    stop_process(proc, 30)
    log.close()
    unmount_under(base)
    shutil.rmtree(base, ignore_errors=True)


def require_binary(name):
    """Skip (outside CI) or fail (in CI) when a system binary is missing."""
    if shutil.which(name):
        return
    if os.environ.get("CI"):
        pytest.fail("%s is required in CI (make system-deps installs it)" % name)
    pytest.skip("%s is not installed (make system-deps installs it)" % name)
