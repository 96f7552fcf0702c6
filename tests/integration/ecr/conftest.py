"""Fixtures of the ECR suite: sample image archives (the Docker engine is tests/conftest.py's `dockerd`)."""
import importlib.util
import os
import shutil

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
