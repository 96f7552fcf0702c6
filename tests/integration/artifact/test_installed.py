"""The collection as a Galaxy user gets it: the tarball `ansible-galaxy
collection build` makes, installed with its dependencies into an empty
collections path, and `cloudlab.microservices.phase5` run from a folder and an
inventory outside the checkout, against the local cloud.

The build runs on a copy of the checkout in which the test first leaves what a
working checkout accumulates (ansible-lint's .ansible/, caches, the local
cloud's state, a deployment folder, test output, a .env with a secret): the
file list must hold the content and none of that."""
import fnmatch
import os
import subprocess
import sys
import sysconfig
import tarfile
import uuid

import pytest
import yaml

from conftest import BIN, ROOT, failure_messages, run_playbook
# archives: a fixture, used as one.
from e2e.conftest import archives, phase5_vars, summary  # noqa: F401  # pylint: disable=unused-import

pytestmark = pytest.mark.slow

SITE = sysconfig.get_paths()["purelib"]
# Made at run time, so that this file does not hold it.
SECRET = "AKIA" + uuid.uuid4().hex[:16].upper()

# What a checkout in use holds beside the content: none of it may ship.
LEFTOVERS = {
    ".ansible/ansible-lint-cache.db": "cache",
    "roles/ecr_repos/.ansible/cache": "cache",
    ".cache/images/customer.oci.tar": "image",
    ".cache/localstack-venv/pyvenv.cfg": "venv",
    ".localcloud/state.json": "{}",
    ".pytest_cache/v/cache/nodeids": "[]",
    "plugins/modules/__pycache__/ecr_login.cpython-311.pyc": "pyc",
    "tests/output/junit/sanity.xml": "<x/>",
    "deployment/taskdef-customer.json": "{}",
    "build/docsite/index.html": "<html/>",
    "cloudlab-microservices-0.0.1.tar.gz": "old",
    "phase5.retry": "localhost",
    "ansible.log": "log",
    ".env": "AWS_SECRET_ACCESS_KEY=%s\n" % SECRET,
    ".aws/credentials": "[default]\naws_secret_access_key=%s\n" % SECRET,
    "lab.pem": "-----BEGIN PRIVATE KEY-----",
}
# Folders that are not content: at the top, and anywhere.
FORBIDDEN_TOP = {".cache", ".venv", ".collections", ".localcloud", ".ci", ".aws", "build", "deployment",
                 "localcloud", "bench", "examples"}
FORBIDDEN_ANYWHERE = {".ansible", ".pytest_cache", "__pycache__", ".git"}
FORBIDDEN_NAMES = ["*.pyc", "*.tar.gz", "*.retry", "*.log", ".env", "*.pem", "*.key", "credentials",
                   "Makefile", "requirements.txt", "requirements.in", ".gitignore", "docs.sh", "docsite.py"]
# Content that must ship, as prefixes of the checkout's tracked files.
CONTENT = ("plugins/", "roles/", "playbooks/", "meta/", "extensions/", "changelogs/", "docs/docsite/")


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, "%s failed:\n%s%s" % (" ".join(cmd), proc.stdout, proc.stderr)
    return proc.stdout


def checkout_files():
    """The files a fresh clone of this checkout has (tracked, or new and not ignored)."""
    out = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT)
    return sorted(f for f in out.split("\0") if f and os.path.isfile(os.path.join(ROOT, f)))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(tarball, its member names, the checkout's files) for a checkout full of leftovers."""
    tmp = tmp_path_factory.mktemp("artifact")
    src = tmp / "microservices"
    files = checkout_files()
    for rel in files:
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(os.path.join(ROOT, rel), "rb") as handle:
            dest.write_bytes(handle.read())
    for rel, text in LEFTOVERS.items():
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", str(src), "--output-path", str(tmp / "dist")],
        cwd=str(tmp))
    version = yaml.safe_load((src / "galaxy.yml").read_text())["version"]
    tarball = tmp / "dist" / ("cloudlab-microservices-%s.tar.gz" % version)
    with tarfile.open(str(tarball)) as tar:
        members = sorted(m.name for m in tar.getmembers() if m.isfile())
    return tarball, members, files


def test_tarball_ships_the_content(built):
    _tarball, members, files = built
    wanted = [f for f in files if f.startswith(CONTENT)
              and not any(fnmatch.fnmatch(os.path.basename(f), pat) for pat in FORBIDDEN_NAMES)]
    assert wanted, "no content found in the checkout"
    missing = sorted(set(wanted) - set(members))
    assert not missing, "the tarball lacks %s" % missing
    for name in ("MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml", "playbooks/phase5.yml",
                 "meta/execution-environment.yml", "meta/ee-requirements.txt", "bindep.txt"):
        assert name in members


def test_tarball_ships_no_cache_state_or_secret(built):
    tarball, members, _files = built
    bad = [m for m in members
           if m.split("/")[0] in FORBIDDEN_TOP or FORBIDDEN_ANYWHERE & set(m.split("/")[:-1])
           or m.startswith("tests/output/")
           or any(fnmatch.fnmatch(os.path.basename(m), pat) for pat in FORBIDDEN_NAMES)]
    assert not bad, "the tarball ships %s" % bad
    with tarfile.open(str(tarball)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                assert SECRET.encode() not in tar.extractfile(member).read(), member.name


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """The tarball installed into an empty collections path; the dependencies
    (amazon.aws, community.aws, community.docker) resolved from the `ansible`
    package of the venv, offline. Returns the config a user would write."""
    tarball = built[0]
    home = tmp_path_factory.mktemp("user")
    collections = home / "collections"
    cfg = home / "ansible.cfg"
    cfg.write_text("[defaults]\ncollections_path = %s:%s\n" % (collections, SITE))
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg))
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections),
         str(tarball)], cwd=str(home), env=env)
    return home, cfg, collections, env


def test_install_resolves_dependencies_from_the_empty_path_and_the_venv(installed):
    home, _cfg, collections, env = installed
    target = collections / "ansible_collections" / "cloudlab" / "microservices"
    assert (target / "MANIFEST.json").is_file()
    assert not (target / ".ansible").exists()
    listed = run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "--format", "yaml"],
                 cwd=str(home), env=env)
    found = yaml.safe_load(listed)
    assert "cloudlab.microservices" in found[str(collections / "ansible_collections")]
    manifest = yaml.safe_load((target / "MANIFEST.json").read_text())
    for dep in manifest["collection_info"]["dependencies"]:
        assert any(dep in names for names in found.values()), "%s is not installed" % dep
    # The checkout is nowhere on the path: the playbook resolves to the installed copy.
    doc = run([os.path.join(BIN, "ansible-doc"), "--json", "cloudlab.microservices.ecr_login"], cwd=str(home), env=env)
    assert str(target) in doc and ROOT not in doc


def test_fqcn_playbook_runs_from_the_installed_collection(installed, cloud, archives, tmp_path):
    home, cfg, collections, _env = installed
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    # What a user of the local cloud writes: the endpoint and dummy credentials.
    (inventory / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "cloudlab_aws_is_local": True,
        "cloudlab_aws_region": "us-east-1",
        "cloudlab_aws_connection": {"endpoint_url": cloud.endpoint, "region": "us-east-1",
                                    "access_key": "ARTIFACTDUMMYKEY", "secret_key": "artifact-dummy-secret-0f3a",
                                    "session_token": "artifact-dummy-token-0f3a"},
        "microservices": [{"name": "customer"}, {"name": "employee"}],
    }))
    env = {"ANSIBLE_CONFIG": str(cfg)}
    lab = run_playbook(cloud, "cloudlab.microservices.lab_environment", inventory=str(inventory),
                       cwd=str(home), env=env)
    assert lab.rc == 0, failure_messages(lab)
    result = run_playbook(cloud, "cloudlab.microservices.phase5", inventory=str(inventory), cwd=str(home),
                          env=env, extra_vars=phase5_vars(tmp_path, archives))
    assert result.rc == 0, failure_messages(result)
    assert result.stats()["localhost"]["changed"] > 0
    shown = summary(result)
    assert shown["repositories"] == archives[1]
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert len(shown["deployment_dev_files"]) == 4
    assert ROOT not in result.stdout
