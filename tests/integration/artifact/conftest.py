"""The tarball of the collection, built once per `make test` and shared by the tests that install
it (test_installed.py with the venv's ansible-core, test_core_versions.py with the older line):
`built` is a session fixture, and under pytest-xdist the first worker that asks builds it while
the others wait for it and read it (a lock in the session's temporary folder, which the workers
share).

The build runs on a copy of the checkout in which the fixture first leaves what a working
checkout accumulates (ansible-lint's .ansible/, caches, the local cloud's state, a deployment
folder, test output, a .env with a secret): the file list must hold the content and none of
that, nor the development tests."""
import collections
import fcntl
import json
import os
import shutil
import subprocess
import sysconfig
import tarfile
import uuid

import pytest
import yaml

from conftest import BIN, ROOT, failure_messages
from e2e.conftest import summary

SITE = sysconfig.get_paths()["purelib"]
# Made at run time, so that this file does not hold it.
UNPUBLISHED = "https://example.invalid/cloudlab/microservices/test-only"
DEPENDENCIES = ("amazon/aws", "community/aws", "community/docker", "community/library_inventory_filtering_v1")
# Not a dependency: the JSON callback the tests read the playbook runs with.
TEST_TOOLS = ("ansible/posix",)

Built = collections.namedtuple("Built", "tarball members files importable secret")


def leftovers(secret):
    """What a checkout in use holds beside the content: none of it may ship."""
    return {
        ".ansible/ansible-lint-cache.db": "cache",
        "roles/ecr_repos/.ansible/cache": "cache",
        ".cache/images/customer.oci.tar": "image",
        ".cache/localstack-venv/pyvenv.cfg": "venv",
        ".cache/venv-ansible-core-2.18/pyvenv.cfg": "venv",
        ".localcloud/state.json": "{}",
        ".pytest_cache/v/cache/nodeids": "[]",
        "plugins/modules/__pycache__/ecr_login.cpython-311.pyc": "pyc",
        "tests/output/junit/sanity.xml": "<x/>",
        "deployment/taskdef-customer.json": "{}",
        "build/docsite/index.html": "<html/>",
        "cloudlab-microservices-0.0.1.tar.gz": "old",
        "phase5.retry": "localhost",
        "ansible.log": "log",
        "changelogs/.plugin-cache.yaml": "objects: {}",
        ".env": "AWS_SECRET_ACCESS_KEY=%s\n" % secret,
        ".aws/credentials": "[default]\naws_secret_access_key=%s\n" % secret,
        "lab.pem": "-----BEGIN PRIVATE KEY-----",
    }


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, "%s failed:\n%s%s" % (" ".join(cmd), proc.stdout, proc.stderr)
    return proc.stdout


def checkout_files():
    """The files a fresh clone of this checkout has (tracked, or new and not ignored)."""
    out = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT)
    return sorted(f for f in out.split("\0") if f and os.path.isfile(os.path.join(ROOT, f)))


def build(tmp):
    """The tarball of a copy of the checkout full of leftovers, and the test-only importable one."""
    secret = "AKIA" + uuid.uuid4().hex[:16].upper()
    src = tmp / "microservices"
    files = checkout_files()
    for rel in files:
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(os.path.join(ROOT, rel), "rb") as handle:
            dest.write_bytes(handle.read())
    for rel, text in leftovers(secret).items():
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", str(src), "--output-path", str(tmp / "dist")],
        cwd=str(tmp))
    version = yaml.safe_load((src / "galaxy.yml").read_text())["version"]
    tarball = tmp / "dist" / ("cloudlab-microservices-%s.tar.gz" % version)
    with tarfile.open(str(tarball)) as tar:
        members = sorted(m.name for m in tar.getmembers() if m.isfile())
    # Galaxy's importer requires a repository URL, and the collection has none published
    # (galaxy.yml names none rather than a placeholder). For the rest of the import, the
    # same build with one, made here only.
    galaxy = yaml.safe_load((src / "galaxy.yml").read_text())
    galaxy["repository"] = UNPUBLISHED
    (src / "galaxy.yml").write_text(yaml.safe_dump(galaxy))
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", str(src), "--output-path",
         str(tmp / "importable")], cwd=str(tmp))
    return Built(str(tarball), members, files, str(tmp / "importable" / tarball.name), secret)


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


def install(tarball, home, bin_dir):
    """The tarball installed by `bin_dir`'s ansible-galaxy into an empty collections path under `home`,
    beside its dependencies (amazon.aws, community.aws, community.docker and what they need, linked from
    the venv's `ansible` package: offline, no Galaxy). Returns (collections root, installed tree, env of a
    user with only that path and `bin_dir` first on the PATH)."""
    collections_root = home / "collections"
    for dep in DEPENDENCIES + TEST_TOOLS:
        (collections_root / "ansible_collections" / dep).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.join(SITE, "ansible_collections", dep),
                   str(collections_root / "ansible_collections" / dep))
    cfg = home / "ansible.cfg"
    cfg.write_text("[defaults]\ncollections_path = %s\ncollections_scan_sys_path = false\n" % collections_root)
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(collections_root),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_COLLECTIONS_PATHS", None)
    run([os.path.join(bin_dir, "ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections_root),
         tarball], cwd=str(home), env=env)
    return collections_root, collections_root / "ansible_collections" / "cloudlab" / "microservices", env


def assert_phase5_made_the_lab(result, archives):
    """A first Phase 5 run from the installed tree on the local cloud: both sample images pushed, the cluster's
    stack created, the four files on dev."""
    assert result.rc == 0, failure_messages(result)
    assert result.stats()["localhost"]["changed"] > 0
    shown = summary(result)
    assert shown["repositories"] == archives[1]
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert len(shown["deployment_dev_files"]) == 4
