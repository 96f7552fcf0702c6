"""`make setup` refuses a Python older than 3.11 before it makes anything,
and says how to get a suitable one (PYTHON=python3.11; on Cloud9 / Amazon
Linux 2023, dnf install python3.11)."""
import os
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def fake_python(tmp_path, version):
    """A `python3` that answers the version question as an older one would."""
    path = tmp_path / ("python%s" % version)
    path.write_text("#!/bin/sh\necho %s\n" % version)
    path.chmod(0o755)
    return str(path)


def make(tmp_path, python, target="setup"):
    venv = "build/test-venv-%s" % os.getpid()
    proc = subprocess.run(["make", "-s", target, "PYTHON=%s" % python, "VENV=%s" % venv], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    return proc, os.path.join(ROOT, venv)


@pytest.mark.parametrize("version", ["3.9", "3.10"])
def test_setup_refuses_an_old_python_and_says_what_to_use(tmp_path, version):
    proc, venv = make(tmp_path, fake_python(tmp_path, version))
    assert proc.returncode != 0
    assert "Python 3.11 or later is needed" in proc.stderr
    assert "is %s" % version in proc.stderr
    assert "make setup PYTHON=python3.11" in proc.stderr
    assert "sudo dnf install -y python3.11" in proc.stderr
    assert not os.path.exists(venv), "a venv was made with Python %s" % version


def test_setup_refuses_a_missing_python(tmp_path):
    proc, venv = make(tmp_path, str(tmp_path / "no-such-python"))
    assert proc.returncode != 0
    assert "not found" in proc.stderr and "PYTHON=python3.11" in proc.stderr
    assert not os.path.exists(venv)


def test_check_accepts_this_python(tmp_path):
    assert sys.version_info >= (3, 11)
    proc, _venv = make(tmp_path, sys.executable, target="python-check")
    assert proc.returncode == 0, proc.stderr
