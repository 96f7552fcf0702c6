"""Fixtures of the end-to-end suite (whole playbooks on the local cloud): the sample image archives. The lab's
starting point is tests/conftest.py's `lab`; what the Phase 5 tests share is in helpers/phase5.py."""
import shutil

import pytest

from examples import build
from localcloud.testing import require_binary

from helpers.phase5 import SERVICES


@pytest.fixture(scope="session")
def archives(tmp_path_factory):
    """OCI archives of the sample services, as `make images` writes them: (folder, {name: digest})."""
    require_binary("busybox")
    out = tmp_path_factory.mktemp("images")
    digests = {}
    for name in SERVICES:
        digests[name] = build.build_archive(name, str(out / ("%s.oci.tar" % name)), busybox=shutil.which("busybox"))
    return str(out), digests
