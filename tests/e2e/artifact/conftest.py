"""The tarball of the collection, built once per `make test` and shared by the tests that install
it (test_installed.py with the venv's ansible-core, test_core_versions.py with the older line):
`built` is a session fixture, and under pytest-xdist the first worker that asks builds it while
the others wait for it and read it (a lock in the session's temporary folder, which the workers
share).

The build runs on a copy of the checkout in which the fixture first leaves what a working
checkout accumulates (ansible-lint's .ansible/, caches, the local cloud's state, a deployment
folder, test output, a .env with a secret): the file list must hold the content and none of
that, nor the development tests."""
import fcntl
import json
import os
import shutil

import pytest

from helpers.artifact import Built, build


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Built(tarball, its member names, the checkout's files, the test-only importable tarball, the secret
    of the leftovers): one build for the whole session, every xdist worker included."""
    base = tmp_path_factory.getbasetemp()
    # A worker's temporary folder is one of the session's (pytest-N/popen-gwX): the build goes beside them.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with open(str(shared / "artifact-build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = shared / "artifact-build.json"
        if not record.is_file():
            tmp = shared / "artifact-build"
            # What a worker that failed to build left.
            shutil.rmtree(str(tmp), ignore_errors=True)
            tmp.mkdir()
            record.write_text(json.dumps(build(tmp)._asdict()))
        return Built(**json.loads(record.read_text()))
