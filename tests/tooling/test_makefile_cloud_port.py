"""The Makefile's local cloud targets use the CLOUD_PORT they are given, whatever LOCALCLOUD_ENDPOINT the shell
exports, and say which endpoint they use.

The targets run for real, with a venv of stand-ins (`python`, `ansible-playbook`) that record their arguments and
the LOCALCLOUD_ENDPOINT they get.
"""
import os
import shutil
import subprocess

import pytest

from helpers import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

STAND_IN = """#!/bin/sh
if [ "$1" = "-c" ]; then echo 3.11; exit 0; fi
printf '%s\\n' "$(basename "$0") $LOCALCLOUD_ENDPOINT $*" >> "$FAKE_LOG"
"""


@pytest.fixture
def venv(tmp_path):
    """A venv (relative to the checkout, as VENV is) whose python and ansible-playbook only record their calls."""
    rel = os.path.join("build", "test-venv-cloud-port-%d" % os.getpid())
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.join(path, "bin"))
    for name in ("python", "ansible-playbook"):
        script = os.path.join(path, "bin", name)
        with open(script, "w") as handle:
            handle.write(STAND_IN)
        os.chmod(script, 0o755)
    with open(os.path.join(path, ".installed"), "w"):
        pass  # newer than requirements.txt: setup installs nothing
    yield rel, str(tmp_path / "calls.log")
    shutil.rmtree(path)


def make(venv, target, *args, exported=None):
    rel, log = venv
    env = dict((k, v) for k, v in os.environ.items() if k not in ("CLOUD_PORT", "LOCALCLOUD_ENDPOINT", "MAKEFLAGS"))
    env["FAKE_LOG"] = log
    if exported:
        env["LOCALCLOUD_ENDPOINT"] = exported
    proc = subprocess.run(["make", "--no-print-directory", target, "VENV=%s" % rel] + list(args), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(log) as handle:
        calls = [line.split(" ", 2) for line in handle.read().splitlines()]
    os.unlink(log)
    return proc.stdout, calls


def test_lab_uses_the_cloud_port_given_not_the_exported_endpoint(venv):
    out, calls = make(venv, "lab", "CLOUD_PORT=4592", exported="http://127.0.0.1:4566")
    started, played = calls
    assert started[0] == "python" and "-m localcloud start --port 4592 " in started[2] + " "
    assert played[0] == "ansible-playbook"
    assert played[1] == "http://127.0.0.1:4592", "the playbook talks to another cloud than the one started"
    assert "local cloud endpoint: http://127.0.0.1:4592 (CLOUD_PORT=4592); the exported " \
           "LOCALCLOUD_ENDPOINT=http://127.0.0.1:4566 is not used" in out


def test_release_uses_the_cloud_port_given(venv):
    out, calls = make(venv, "release", "CLOUD_PORT=4592", exported="http://127.0.0.1:4566")
    # The helper that builds the next version, then the playbook that pushes and follows it, on the same cloud.
    assert [(c[0], c[1]) for c in calls] == [("python", "http://127.0.0.1:4592"),
                                             ("ansible-playbook", "http://127.0.0.1:4592")]
    assert calls[0][2].endswith("--endpoint http://127.0.0.1:4592")
    assert "playbooks/release.yml -e release_service=employee -e release_archive=" in calls[1][2]
    assert "local cloud endpoint: http://127.0.0.1:4592 (CLOUD_PORT=4592)" in out


def test_default_port_and_an_exported_endpoint(venv):
    out, calls = make(venv, "lab", exported="http://127.0.0.1:4600")
    assert [c[1] for c in calls] == ["http://127.0.0.1:4566", "http://127.0.0.1:4566"]
    assert "-m localcloud start --port 4566 " in calls[0][2] + " "
    assert "LOCALCLOUD_ENDPOINT=http://127.0.0.1:4600 is not used: give CLOUD_PORT=<its port>" in out
    out, calls = make(venv, "cloud")
    assert out.splitlines()[0] == "local cloud endpoint: http://127.0.0.1:4566 (CLOUD_PORT=4566)"


def test_phase9_releases_the_next_employee_with_the_admin_pages_let_in_locally(venv):
    out, calls = make(venv, "phase9", "CLOUD_PORT=4592", exported="http://127.0.0.1:4566")
    assert [(c[0], c[1]) for c in calls] == [("python", "http://127.0.0.1:4592"),
                                             ("ansible-playbook", "http://127.0.0.1:4592")]
    assert calls[0][2].endswith("--service employee --endpoint http://127.0.0.1:4592")
    assert calls[1][2].startswith('-i inventories/local playbooks/phase9.yml -e {"phase9_admin_cidrs": '
                                  '["127.0.0.1/32"]} -e phase9_release_archive=')
    assert "local cloud endpoint: http://127.0.0.1:4592 (CLOUD_PORT=4592)" in out
