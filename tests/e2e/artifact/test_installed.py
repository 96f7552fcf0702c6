"""The collection as a user gets it: the tarball `ansible-galaxy collection
build` makes, installed with its dependencies into an empty collections path,
and checked from outside the checkout by the tools Galaxy and its users run:
ansible-doc for every plugin and role, `ansible-test sanity` on the installed
tree (make test's only sanity run: the same files as the checkout's), ansible-lint
(profile production), `ansible-galaxy collection verify` against the tarball,
the Galaxy importer offline, and the FQCN playbooks with the shipped sample
inventory (inputs missing, an endpoint down, Phase 5 on the local cloud).

The tarball is conftest.py's `built`, shared with test_core_versions.py (which
runs sanity and Phase 5 on the older ansible-core line): a copy of the checkout
full of what a working checkout accumulates, none of which may ship."""
import fnmatch
import json
import os
import subprocess
import tarfile

import pytest
import yaml

from localcloud.testing import require_binary
from localcloud.testing.cloud import free_port

from helpers import BIN, ROOT, failure_messages, run_playbook
from helpers.artifact import assert_phase5_made_the_lab, install, run
from helpers.phase5 import phase5_vars

pytestmark = pytest.mark.slow

# The Python with galaxy-importer (requirements.txt puts it in the dev venv).
IMPORTER_PYTHON = os.environ.get("CLOUDLAB_GALAXY_IMPORTER_PYTHON", os.path.join(BIN, "python"))

# Folders that are not content: at the top, and anywhere. The development tests need the
# checkout (the local cloud, Docker, the dev venv): they stay out, as do the dev runners.
FORBIDDEN_TOP = {".cache", ".venv", ".collections", ".localcloud", ".ci", ".aws", "build", "deployment",
                 "tools", "bench", "examples", "tests", "extensions"}
FORBIDDEN_ANYWHERE = {".ansible", ".pytest_cache", "__pycache__", ".git", "fragments"}
FORBIDDEN_NAMES = ["*.pyc", "*.tar.gz", "*.retry", "*.log", ".env", "*.pem", "*.key", "credentials",
                   "Makefile", "requirements.txt", "requirements.in", ".gitignore", "docs.sh", "docsite.py",
                   "ansible.cfg", ".plugin-cache.yaml", "pytest.ini", "*.sh", "CONTRIBUTING.md"]
# Content that must ship, as prefixes of the checkout's tracked files.
CONTENT = ("plugins/", "roles/", "playbooks/", "meta/", "inventories/", "docs/docsite/")
SHIPPED = ("MANIFEST.json", "FILES.json", "README.md", "LICENSE", "CHANGELOG.rst", ".ansible-lint",
           "changelogs/changelog.yaml", "meta/runtime.yml", "playbooks/phase5.yml",
           "inventories/local/hosts.yml", "inventories/local/group_vars/all.yml",
           "inventories/aws/hosts.yml", "inventories/aws/group_vars/all.yml",
           "meta/execution-environment.yml", "meta/ee-requirements.txt", "bindep.txt")


def test_tarball_ships_the_content_and_the_sample_inventories(built):
    members, files = built.members, built.files
    wanted = [f for f in files if f.startswith(CONTENT)
              and not any(fnmatch.fnmatch(os.path.basename(f), pat) for pat in FORBIDDEN_NAMES)]
    assert wanted, "no content found in the checkout"
    missing = sorted(set(wanted) - set(members))
    assert not missing, "the tarball lacks %s" % missing
    for name in SHIPPED:
        assert name in members, name


def test_tarball_ships_no_tests_dev_runner_cache_state_or_secret(built):
    tarball, members = built.tarball, built.members
    bad = [m for m in members
           if m.split("/")[0] in FORBIDDEN_TOP or FORBIDDEN_ANYWHERE & set(m.split("/")[:-1])
           or any(fnmatch.fnmatch(os.path.basename(m), pat) for pat in FORBIDDEN_NAMES)]
    assert not bad, "the tarball ships %s" % bad
    with tarfile.open(str(tarball)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                assert built.secret.encode() not in tar.extractfile(member).read(), member.name


def test_metadata_is_real_and_licensed(built):
    with tarfile.open(built.tarball) as tar:
        info = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
        licence = tar.extractfile("LICENSE").read().decode()
    assert info["license_file"] == "LICENSE" and not info["license"]
    assert "GNU GENERAL PUBLIC LICENSE" in licence and "Version 3, 29 June 2007" in licence
    for key in ("repository", "documentation", "homepage", "issues"):
        assert not info[key] or ".invalid" not in info[key], key
    assert "`" not in info["description"] and "Phases 5 to 8" in info["description"]
    assert {"codedeploy", "codepipeline", "elb"} <= set(info["tags"])
    assert len(info["tags"]) <= 20
    assert all(fnmatch.fnmatch(t, "[a-z]*") and not set(t) - set("abcdefghijklmnopqrstuvwxyz0123456789_")
               for t in info["tags"])


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """The tarball installed by the venv's ansible-galaxy into an empty collections path beside its
    dependencies. Returns (home, collections root, installed tree, env of a user with only that path)."""
    home = tmp_path_factory.mktemp("user")
    collections, target, env = install(built.tarball, home, BIN)
    return home, collections, target, env


def test_install_resolves_dependencies_from_the_clean_path(installed):
    home, collections, target, env = installed
    assert (target / "MANIFEST.json").is_file() and not (target / ".ansible").exists()
    found = yaml.safe_load(run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "--format", "yaml"],
                               cwd=str(home), env=env))
    # ansible-core's own internal collections aside, only the clean path: not the checkout, not the venv's.
    assert [p for p in found if "/ansible/_internal/" not in p] == [str(collections / "ansible_collections")]
    manifest = json.loads((target / "MANIFEST.json").read_text())
    for dep in manifest["collection_info"]["dependencies"]:
        assert dep in found[str(collections / "ansible_collections")], "%s is not installed" % dep


def test_galaxy_verify_matches_the_tarball_and_sees_a_change(installed, built):
    """First, on the tree as installed: ansible-test and ansible-lint leave their output in it."""
    home, collections, target, env = installed
    # ansible-galaxy 2.19 verifies an installed collection against its MANIFEST.json and FILES.json
    # (a tarball is not a source it takes): the installed manifest is the tarball's, byte for byte.
    with tarfile.open(built.tarball) as tar:
        for name in ("MANIFEST.json", "FILES.json"):
            assert (target / name).read_bytes() == tar.extractfile(name).read(), name
    verify = [os.path.join(BIN, "ansible-galaxy"), "collection", "verify", "--offline", "-p", str(collections),
              "cloudlab.microservices"]
    out = run(verify, cwd=str(home), env=env)
    assert "Successfully verified that checksums for 'cloudlab.microservices" in out
    readme = target / "README.md"
    original = readme.read_bytes()
    try:
        readme.write_bytes(original + b"\nedited\n")
        proc = subprocess.run(verify, cwd=str(home), env=env, capture_output=True, text=True, check=False)
        assert proc.returncode != 0 and "README.md" in proc.stdout + proc.stderr
    finally:
        readme.write_bytes(original)


def test_ansible_doc_documents_every_plugin_and_role_from_the_installed_tree(installed):
    home, _collections, target, env = installed
    wanted = {
        "module": sorted(f[:-3] for f in os.listdir(str(target / "plugins" / "modules"))
                         if f.endswith(".py") and not f.startswith("_")),
        "filter": sorted(f[:-4] for f in os.listdir(str(target / "plugins" / "filter")) if f.endswith(".yml")),
        "role": sorted(os.listdir(str(target / "roles"))),
    }
    doc = os.path.join(BIN, "ansible-doc")
    for kind, names in wanted.items():
        assert names, kind
        listed = json.loads(run([doc, "-t", kind, "--list", "--json", "cloudlab.microservices"],
                                cwd=str(home), env=env))
        assert sorted(n.split(".")[-1] for n in listed) == names, kind
        docs = json.loads(run([doc, "-t", kind, "--json"] + ["cloudlab.microservices.%s" % n for n in names],
                              cwd=str(home), env=env))
        for name in names:
            entry = docs.get("cloudlab.microservices.%s" % name) or {}
            body = entry.get("doc") or entry.get("entry_points") or {}
            assert body, "ansible-doc has no documentation of the %s %s" % (kind, name)
            if kind != "role":
                assert str(target) in body["filename"] and ROOT not in body["filename"], body["filename"]


def test_ansible_test_sanity_passes_on_the_installed_tree(installed):
    require_binary("shellcheck")
    _home, _collections, target, _env = installed
    proc = subprocess.run(["bash", os.path.join(ROOT, "tests", "sanity.sh")], capture_output=True, text=True,
                          env=dict(os.environ, SANITY_COLLECTION_DIR=str(target)), check=False, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    # shellcheck ran (it is skipped, with a warning, when not installed).
    assert "Skipping sanity test 'shellcheck'" not in proc.stdout + proc.stderr


def test_ansible_lint_production_is_clean_on_the_installed_tree(installed):
    _home, collections, target, env = installed
    # HOME is the clean user's: a copy of the collection in the machine user's ~/.ansible/collections (molecule's
    # prerun leaves one there) would otherwise be the one ansible-lint resolves.
    proc = subprocess.run([os.path.join(BIN, "ansible-lint"), "--profile", "production", "--offline"],
                          cwd=str(target), env=dict(env, ANSIBLE_COLLECTIONS_PATH=str(collections), HOME=str(_home)),
                          capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    assert "Passed" in proc.stderr + proc.stdout


# Modules without amazon.aws's connection options (they make no AWS call).
NO_AWS_OPTIONS = ("git_deployment_repo", "preflight")


def galaxy_importer(tarball, workdir):
    """galaxy-importer offline on a tarball: (its process, its result or None)."""
    if subprocess.run([IMPORTER_PYTHON, "-c", "import galaxy_importer"], capture_output=True,
                      check=False).returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("galaxy-importer is not installed (requirements.txt has it): run make setup")
        pytest.skip("galaxy-importer is not installed in %s" % IMPORTER_PYTHON)
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "galaxy-importer.cfg"
    # Its ansible-lint run is left to test_ansible_lint_production_is_clean_on_the_installed_tree (the
    # same lint, with the dependencies: a minute less of make test).
    config.write_text("[galaxy-importer]\nrun_ansible_doc = True\nrun_ansible_lint = False\n"
                      "run_ansible_test = False\ncheck_changelog = True\n"
                      "tmp_root_dir = %s\nansible_local_tmp = %s\n" % (workdir, workdir / "ansible-tmp"))
    # The importer runs ansible-doc from the PATH with its own collections path: the venv's
    # ansible-doc finds the dependency collections in the `ansible` package beside it.
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=str(config), PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run([IMPORTER_PYTHON, "-m", "galaxy_importer.main", "--print-result", str(tarball)],
                          cwd=str(workdir), env=env, capture_output=True, text=True, check=False, timeout=900)
    result = json.loads(proc.stdout[proc.stdout.index("{"):]) if "{" in proc.stdout else None
    return proc, result


def test_galaxy_importer_refuses_the_tarball_only_for_its_missing_repository(built, tmp_path):
    proc, result = galaxy_importer(built.tarball, tmp_path)
    assert result is None
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "ERROR" in line]
    assert lines == ["ERROR: The import failed for the following reason: Invalid collection metadata. "
                     "'repository' is required"], lines


def test_galaxy_importer_imports_every_module_documented_without_error(built, tmp_path):
    proc, result = galaxy_importer(built.importable, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if "ERROR" in line or "Error running" in line]
    assert not errors, "\n".join(errors)
    assert result["metadata"]["license_file"] == "LICENSE"
    modules = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                     if f.endswith(".py") and not f.startswith("_"))
    assert sorted(c["name"] for c in result["contents"] if c["content_type"] == "module") == modules
    documented = dict((c["content_name"], c) for c in result["docs_blob"]["contents"]
                      if c["content_type"] == "module")
    assert sorted(documented) == modules
    for name, content in documented.items():
        doc = (content.get("doc_strings") or {}).get("doc") or {}
        options = [o["name"] for o in doc.get("options") or []]
        assert doc.get("short_description") and options, "no documentation of %s in the import" % name
        # The options of amazon.aws's doc fragments (region, endpoint_url...) only resolve with the dependencies.
        assert name in NO_AWS_OPTIONS or {"region", "endpoint_url"} <= set(options), (name, options)


def sample_inventory(target):
    return str(target / "inventories" / "local")


def test_playbook_without_its_inputs_names_them_and_the_sample_inventory(installed, tmp_path):
    home, _collections, target, env = installed
    bare = tmp_path / "hosts.yml"
    bare.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}))
    result = run_playbook(None, "cloudlab.microservices.phase5", inventory=str(bare), cwd=str(home), env=env,
                          json_output=False)
    assert result.rc != 0
    assert "The playbook's inputs are not set: cloudlab_aws_connection" in result.output
    assert "microservices (the list of services" in result.output
    assert "%s/inventories/local (a local cloud" % target in result.output
    assert "KeyError" not in result.output and "Task failed: 'microservices'" not in result.output


def test_an_endpoint_that_is_down_is_said_to_be_down(installed):
    home, _collections, target, env = installed
    down = "http://127.0.0.1:%d" % free_port()
    # One try per call (the user's own setting wins over the retry policy): the message, not the wait.
    result = run_playbook(None, "cloudlab.microservices.phase5", inventory=sample_inventory(target), cwd=str(home),
                          env=dict(env, LOCALCLOUD_ENDPOINT=down, AWS_MAX_ATTEMPTS="1"), json_output=False)
    assert result.rc != 0
    flat = " ".join(result.output.split())
    assert "The endpoint %s (cloudlab_aws_connection.endpoint_url) does not answer" % down in flat
    assert "Failed to find" not in flat and "make demo" not in flat and "credentials" not in flat


def test_fqcn_playbook_runs_with_the_sample_inventory(installed, cloud, archives, tmp_path):
    home, _collections, target, env = installed
    env = dict(env, LOCALCLOUD_ENDPOINT=cloud.endpoint)
    lab = run_playbook(cloud, "cloudlab.microservices.lab_environment", inventory=sample_inventory(target),
                       cwd=str(home), env=env)
    assert lab.rc == 0, failure_messages(lab)
    result = run_playbook(cloud, "cloudlab.microservices.phase5", inventory=sample_inventory(target),
                          cwd=str(home), env=env, extra_vars=phase5_vars(tmp_path, archives))
    assert_phase5_made_the_lab(result, archives)
    assert ROOT not in result.stdout
