"""The execution environment: ansible-builder reads the collection's
meta/execution-environment.yml (Python requirements, bindep.txt) from the
installed collection, and `make ee` makes the build context of
docs/execution-environment.yml without a container engine: the collection
from its tarball, inside the context."""
import json
import os
import shutil
import subprocess
import tarfile

import pytest
import yaml
from packaging.requirements import Requirement

from helpers import BIN, ROOT


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300, **kwargs)
    assert proc.returncode == 0, "%s failed:\n%s%s" % (" ".join(cmd), proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The built collection installed alone into an empty collections folder."""
    tmp = tmp_path_factory.mktemp("ee")
    cfg = tmp / "ansible.cfg"
    cfg.write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg))
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(tmp / "dist")],
        cwd=str(tmp), env=env)
    tarball = next((tmp / "dist").iterdir())
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p",
         str(tmp / "collections"), str(tarball)], cwd=str(tmp), env=env)
    return tmp / "collections"


def test_builder_reads_the_collections_requirements(installed):
    out = run([os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", str(installed)])
    data = yaml.safe_load(out[out.index("---"):])
    ours = "# from collection cloudlab.microservices"
    python = [line.split("#")[0].strip() for line in data["python"] if line.endswith(ours)]
    system = [line.split("#")[0].strip() for line in data["system"] if line.endswith(ours)]
    assert {"boto3>=1.34.38", "botocore>=1.34.38", "awscli"} <= set(python), data
    assert "git" in system, data


EE_TARBALL = "collections/cloudlab-microservices.tar.gz"


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """`make ee`'s build context, made in a folder of the test's own (-o setup: this venv is make setup's)."""
    context = tmp_path_factory.mktemp("ee-context") / "context"
    run(["make", "--no-print-directory", "-o", "setup", "ee", "EE_CONTEXT=%s" % context], cwd=ROOT)
    return context


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_make_ee_puts_the_collections_tarball_in_the_context(context):
    """The tarball in the context is this checkout's collection, with galaxy.yml's dependencies and the
    requirements files meta/execution-environment.yml names (what ansible-builder introspects in the image)."""
    galaxy = load_yaml(os.path.join(ROOT, "galaxy.yml"))
    with tarfile.open(context / "_build" / EE_TARBALL) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
        shipped = dict((name, tar.extractfile(name).read().decode())
                       for name in ("meta/execution-environment.yml", "meta/ee-requirements.txt", "bindep.txt"))
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == (
        galaxy["namespace"], galaxy["name"], galaxy["version"])
    assert manifest["dependencies"] == galaxy["dependencies"]
    for name, text in shipped.items():
        with open(os.path.join(ROOT, name), encoding="utf-8") as f:
            assert text == f.read(), name


def test_the_containerfile_installs_the_tarball_and_only_it(context, tmp_path):
    """The galaxy stage copies _build to /build and installs requirements.yml from there: the tarball alone, its
    dependencies from its MANIFEST (galaxy.yml). The same install, offline (--no-deps), from a copy of _build."""
    assert load_yaml(context / "_build" / "requirements.yml") == {"collections": [{"name": EE_TARBALL, "type": "file"}]}
    steps = (context / "Containerfile").read_text().splitlines()
    assert "COPY _build /build" in steps and "WORKDIR /build" in steps, steps
    (install,) = [s for s in steps if "ansible-galaxy collection install" in s]
    assert "-r requirements.yml" in install and "--no-deps" not in install, install
    build = tmp_path / "build"
    shutil.copytree(context / "_build", build)
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\ncollections_path = %s\n" % (tmp_path / "collections"))  # none installed, as in the image
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-r", "requirements.yml",
         "-p", str(tmp_path / "collections")], cwd=str(build), env=dict(os.environ, ANSIBLE_CONFIG=str(cfg)))
    installed = tmp_path / "collections" / "ansible_collections" / "cloudlab" / "microservices"
    assert json.loads((installed / "MANIFEST.json").read_text())["collection_info"]["name"] == "microservices"
    assert (installed / "playbooks" / "site.yml").is_file()


def test_the_ee_has_the_ansible_core_and_runner_that_the_tests_run(context):
    """ansible-core and ansible-runner in the image: ranges that hold the versions requirements.txt pins."""
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as f:
        pins = dict(line.strip().split("==") for line in f if "==" in line and not line.startswith("#"))
    args = [s for s in (context / "Containerfile").read_text().splitlines() if s.startswith("ARG ANSIBLE_INSTALL_REFS=")]
    refs = [Requirement(r) for r in args[0].split("=", 1)[1].strip('"').split()]
    assert sorted(r.name for r in refs) == ["ansible-core", "ansible-runner"], args
    for ref in refs:
        assert ref.specifier.contains(pins[ref.name]), (str(ref), pins[ref.name])
