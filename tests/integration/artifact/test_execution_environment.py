"""The execution environment: ansible-builder reads the collection's
meta/execution-environment.yml (Python requirements, bindep.txt) from the
installed collection, and makes the build context of
docs/execution-environment.yml without a container engine."""
import os
import subprocess

import pytest
import yaml

from conftest import BIN, ROOT


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
    assert {"boto3>=1.34.0", "botocore>=1.34.0", "awscli"} <= set(python), data
    assert "git" in system, data


def test_builder_makes_the_build_context(tmp_path):
    context = tmp_path / "context"
    run([os.path.join(BIN, "ansible-builder"), "create", "-f", os.path.join(ROOT, "docs", "execution-environment.yml"),
         "-c", str(context), "--output-filename", "Containerfile"], cwd=str(tmp_path))
    containerfile = (context / "Containerfile").read_text()
    # The steps that install the collections, then what they declare.
    assert "ansible-galaxy" in containerfile and "introspect" in containerfile
    assert "install-from-bindep" in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = [c["name"] for c in requirements["collections"]]
    assert names[0] == "cloudlab.microservices"
    assert {"amazon.aws", "community.aws", "community.docker"} <= set(names)
