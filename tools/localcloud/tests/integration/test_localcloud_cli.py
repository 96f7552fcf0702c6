"""`python -m localcloud start|stop|status`: background life cycle, port taken, idempotent stop."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest

from localcloud.testing.cloud import AWS_ENV, free_port

# The package's folder (tools/localcloud): `python -m localcloud` runs from there as from an installed package.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(*args, timeout=90):
    return subprocess.run([sys.executable, "-m", "localcloud"] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env=dict(os.environ, LOCALCLOUD_TASKS="off", **AWS_ENV))


def answers(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/_localcloud/status" % port, timeout=2) as resp:
            return json.loads(resp.read())
    except Exception:
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


def children_of_group(pgid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry))
    return found


@pytest.fixture
def background(tmp_path):
    """A state dir and port for a background cloud; stopped whatever the test did."""
    state = str(tmp_path / "state")
    port = free_port()
    yield state, port
    cli("stop", "--state-dir", state)


def test_start_status_stop(background):
    state, port = background
    started = cli("start", "--port", str(port), "--state-dir", state, "--registry-port", "0")
    assert started.returncode == 0, started.stderr
    doc = answers(port)
    assert doc and os.path.realpath(doc["state_dir"]) == os.path.realpath(state)
    with open(os.path.join(state, "localcloud.pid")) as handle:
        pid = int(handle.read().split()[0])
    assert doc["pid"] == pid
    assert os.path.isfile(os.path.join(state, "localcloud.log"))
    status = cli("status", "--port", str(port), "--state-dir", state)
    assert status.returncode == 0 and json.loads(status.stdout)["pid"] == pid

    again = cli("start", "--port", str(port), "--state-dir", state)
    assert again.returncode == 0
    assert "already running" in again.stdout
    assert answers(port)["pid"] == pid  # the same process, not a second one

    group = children_of_group(pid)
    stopped = cli("stop", "--state-dir", state)
    assert stopped.returncode == 0
    assert answers(port) is None
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(p) for p in group):
        time.sleep(0.1)
    assert not [p for p in group if alive(p)], "processes left behind by stop"
    assert not os.path.exists(os.path.join(state, "localcloud.pid"))

    not_running = cli("stop", "--state-dir", state)
    assert not_running.returncode == 0 and "not running" in not_running.stdout
    assert cli("status", "--port", str(port), "--state-dir", state).returncode != 0


def test_registry_child_is_stopped_too(background):
    if not __import__("shutil").which("docker-registry"):
        pytest.skip("docker-registry is not installed")
    state, port = background
    assert cli("start", "--port", str(port), "--state-dir", state, "--registry-port", "0").returncode == 0
    registry = answers(port)["registry"]
    assert registry and registry.startswith("127.0.0.1:")
    reg_port = int(registry.split(":")[1])
    with socket.create_connection(("127.0.0.1", reg_port), timeout=2):
        pass
    cli("stop", "--state-dir", state)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", reg_port), timeout=2).close()


def _closed_by_the_server(port, request):
    """One request that the server answers and closes first: its side of the connection stays in TIME_WAIT."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        while sock.recv(65536):
            pass


def test_restart_right_after_stop_with_client_connections(background):
    """`make cloud-down` then `make cloud` after a run: the sockets clients left on both ports do not block the start.

    Connections the servers closed first (werkzeug closes after every answer) stay in TIME_WAIT on the servers'
    ports for a minute; connections a client still holds (keep-alive) when the servers stop stay in FIN_WAIT_2.
    Neither keeps a server from listening, and the registry keeps its port.
    """
    state, port = background
    registry = shutil.which("docker-registry") is not None
    reg_port = free_port()
    args = ("--port", str(port), "--state-dir", state, "--registry-port", str(reg_port))
    assert cli("start", *args).returncode == 0
    ports = [port] + ([reg_port] if registry else [])
    if registry:
        assert answers(port)["registry"] == "127.0.0.1:%d" % reg_port
        _closed_by_the_server(reg_port, b"GET /v2/ HTTP/1.0\r\n\r\n")
    _closed_by_the_server(port, b"GET /_localcloud/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    held = [socket.create_connection(("127.0.0.1", p), timeout=5) for p in ports]
    try:
        stopped = cli("stop", "--state-dir", state)
        assert stopped.returncode == 0, stopped.stderr
        started = cli("start", *args)
        assert started.returncode == 0, started.stderr
        doc = answers(port)
        assert doc is not None
        if registry:
            assert doc["registry"] == "127.0.0.1:%d" % reg_port, doc
    finally:
        for sock in held:
            sock.close()


def test_stop_returns_once_both_ports_are_free(background):
    if not shutil.which("docker-registry"):
        pytest.skip("docker-registry is not installed")
    state, port = background
    reg_port = free_port()
    assert cli("start", "--port", str(port), "--state-dir", state, "--registry-port", str(reg_port)).returncode == 0
    assert cli("stop", "--state-dir", state).returncode == 0
    for taken in (port, reg_port):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", taken))
            sock.listen(1)


def test_stop_says_what_is_lost(background):
    """`make cloud-down` names what went with the cloud (moto's state, runs) and what stays (CodeCommit)."""
    state, port = background
    assert cli("start", "--port", str(port), "--state-dir", state, "--registry-port", "0").returncode == 0

    def client(service):
        return boto3.client(service, endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    client("ec2").create_vpc(CidrBlock="10.0.0.0/16")
    ecs = client("ecs")
    ecs.create_cluster(clusterName="microservices-serverlesscluster")
    for family in ("customer-microservice", "employee-microservice"):
        ecs.register_task_definition(family=family, containerDefinitions=[{"name": "a", "image": "a", "memory": 128}])
    client("codecommit").create_repository(repositoryName="deployment")
    stopped = cli("stop", "--state-dir", state)
    assert stopped.returncode == 0, stopped.stderr
    lines = stopped.stdout.splitlines()
    assert lines[0].startswith("local cloud of %s (http://127.0.0.1:%d) stopped (pid " % (os.path.abspath(state), port))
    assert lines[1] == ("gone with it (moto's state and the runs are in memory, the ECR image store is emptied at "
                        "the next start): 1 VPC, 1 ECS cluster, 2 ECS task definitions")
    assert lines[2] == "kept in %s: 1 CodeCommit repository (deployment)" % os.path.join(
        os.path.abspath(state), "codecommit")

    assert cli("start", "--port", str(port), "--state-dir", state, "--registry-port", "0").returncode == 0
    client("codecommit").delete_repository(repositoryName="deployment")
    assert cli("stop", "--state-dir", state).stdout.splitlines()[1:] == ["it held nothing that a stop loses"]


def test_port_taken_by_another_process(background):
    state, port = background
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen(1)
        started = cli("start", "--port", str(port), "--state-dir", state)
        served = cli("serve", "--port", str(port), "--state-dir", state)
    expected = ("port %d on 127.0.0.1 is already in use by another process; "
                "stop it or choose --port / CLOUD_PORT" % port)
    assert started.returncode == 1
    assert started.stderr.strip() == expected
    assert served.returncode == 1
    assert expected in served.stderr
    assert not os.path.exists(os.path.join(state, "localcloud.pid"))


def test_stale_pid_file_is_harmless(background):
    state, port = background
    os.makedirs(state)
    dead = subprocess.Popen(["true"])
    dead.wait()
    with open(os.path.join(state, "localcloud.pid"), "w") as handle:
        handle.write("%d 127.0.0.1 %d\n" % (dead.pid, port))
    assert cli("stop", "--state-dir", state).returncode == 0
    assert cli("start", "--port", str(port), "--state-dir", state, "--registry-port", "0").returncode == 0
    assert answers(port)


def test_only_loopback(tmp_path):
    refused = cli("start", "--host", "0.0.0.0", "--port", str(free_port()), "--state-dir", str(tmp_path / "s"))
    assert refused.returncode == 2
    assert "loopback" in refused.stderr
    assert not os.path.exists(str(tmp_path / "s" / "localcloud.pid"))
