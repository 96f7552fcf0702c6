"""`.ci/system-deps.sh` waits for the package manager's lock, then fails naming who holds it."""
import os
import subprocess
import sys
import time

import pytest

from helpers import ROOT

SCRIPT = os.path.join(ROOT, ".ci", "system-deps.sh")

HOLDER = r"""
import fcntl, sys, time
f = open(sys.argv[1], "w")
fcntl.lockf(f, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_lock(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"locked"
    return proc


def run_script(tmp_path, lock, wait):
    fake_apt = tmp_path / "fake-apt-get"
    fake_apt.write_text("#!/bin/sh\necho \"$@\" >> %s/apt-calls\n" % tmp_path)
    fake_apt.chmod(0o755)
    env = dict(os.environ, SYSTEM_DEPS_PACKAGES="cloudlab-no-such-package", SYSTEM_DEPS_LOCK_FILES=str(lock),
               SYSTEM_DEPS_LOCK_WAIT=str(wait), SYSTEM_DEPS_APT_GET=str(fake_apt))
    return subprocess.run(["bash", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="the script installs only as root")
def test_a_held_lock_fails_after_the_wait_naming_the_holder(tmp_path):
    lock = tmp_path / "lock-frontend"
    holder = hold_lock(lock, 30)
    try:
        started = time.monotonic()
        result = run_script(tmp_path, lock, 3)
        assert result.returncode == 1
        assert time.monotonic() - started >= 3
        assert "pid %d" % holder.pid in result.stderr
        assert "still held" in result.stderr and "SYSTEM_DEPS_LOCK_WAIT" in result.stderr
        assert not (tmp_path / "apt-calls").exists()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.skipif(os.geteuid() != 0, reason="the script installs only as root")
def test_a_lock_released_in_time_lets_the_install_go_on(tmp_path):
    lock = tmp_path / "lock-frontend"
    holder = hold_lock(lock, 3)
    try:
        result = run_script(tmp_path, lock, 60)
        assert result.returncode == 0, result.stderr
        assert "waiting up to 60s" in result.stderr
        calls = (tmp_path / "apt-calls").read_text()
        assert "install" in calls and "cloudlab-no-such-package" in calls
        assert "DPkg::Lock::Timeout=60" in calls
    finally:
        holder.kill()
        holder.wait()


def test_nothing_missing_means_no_apt_at_all(tmp_path):
    env = dict(os.environ, SYSTEM_DEPS_PACKAGES="bash", SYSTEM_DEPS_APT_GET="false")
    result = subprocess.run(["bash", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_shellcheck_is_installed_for_ansible_test_sanity():
    """ansible-test sanity skips its shellcheck test when the binary is missing: make test installs it."""
    with open(SCRIPT) as handle:
        wanted = next(line for line in handle if line.startswith("want=("))
    assert "shellcheck" in wanted[len("want=("):].rstrip(")\n").split()
