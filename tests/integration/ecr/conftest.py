"""Fixtures of the ECR suite: sample image archives (the Docker engine is localcloud.testing's `dockerd`)."""
import shutil

import pytest

from examples import build as examples_build

from localcloud.testing import require_binary


@pytest.fixture(scope="session")
def build():
    """examples/build.py (the same code `make images` runs)."""
    return examples_build


@pytest.fixture
def archives(tmp_path, build):
    """Fresh OCI archives of both sample services; {name: path}."""
    require_binary("busybox")
    out = {}
    for name in ("customer", "employee"):
        out[name] = str(tmp_path / ("%s.oci.tar" % name))
        build.build_archive(name, out[name], busybox=shutil.which("busybox"))
    return out
