"""`python -m localcloud start|stop|status`: background life cycle, port taken, idempotent stop."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import AWS_ENV, ROOT, free_port


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
