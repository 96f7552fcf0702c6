"""Fixtures of the ECR suite: sample image archives and a private Docker engine."""
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, require_binary

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYS = os.path.join(HERE, "plays")


def _load_build():
    spec = importlib.util.spec_from_file_location("examples_build", os.path.join(ROOT, "examples", "build.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build():
    """examples/build.py as a module (the same code `make images` runs)."""
    return _load_build()


@pytest.fixture
def archives(tmp_path, build):
    """Fresh OCI archives of both sample services; {name: path}."""
    require_binary("busybox")
    out = {}
    for name in ("customer", "employee"):
        out[name] = str(tmp_path / ("%s.oci.tar" % name))
        build.build_archive(name, out[name], busybox=shutil.which("busybox"))
    return out


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
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    shutil.rmtree(base, ignore_errors=True)
