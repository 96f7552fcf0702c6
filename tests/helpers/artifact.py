"""Building the collection's tarball as a user would get it and installing it in a clean collections path:
what test_installed.py and test_core_versions.py share (the session's one build is the `built` fixture of
tests/e2e/artifact/conftest.py)."""
import collections
import os
import subprocess
import sysconfig
import tarfile
import uuid

import yaml

from helpers import BIN, ROOT, failure_messages, summary

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
    shown = summary(result, 5)
    assert shown["repositories"] == archives[1]
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert len(shown["deployment_dev_files"]) == 4
