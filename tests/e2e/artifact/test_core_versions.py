"""Versions as tested. `make test` runs ansible-test sanity and the Phase 5 playbook from the installed
tarball on two ansible-core lines, each in its own venv on the Python of the run (3.11): the venv's 2.19
(the `ansible` 12.3.0 package, test_installed.py) and here the older line that meta/runtime.yml's
requires_ansible names, pinned in older-core.txt, with boto3 and botocore at the floors the collection
declares (meta/ee-requirements.txt, not below amazon.aws's) and the dependency collections of the venv's
`ansible` package (amazon.aws 10.1.2, community.aws 10.0.0, community.docker 4.8.5): no Galaxy here.
After Phase 5, status.yml reads the lab as the plan of site.yml and Phases 6, 7 and 9 read it.

The older line's venv is made by the test itself, in .cache/venv-ansible-core-<line>, and made again
only when its pins change; a venv that cannot be made fails the test, it is not skipped. The tarball
is conftest.py's `built`, the one test_installed.py installs; the older line's ansible-galaxy installs
it here."""
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from localcloud.testing import require_binary

from helpers import ROOT, PlaybookResult, failure_messages
from helpers.phase5 import phase5_vars
# archives: a fixture, used as one.
from helpers.artifact import SITE, assert_phase5_made_the_lab, install, run

pytestmark = pytest.mark.slow

HERE = os.path.dirname(os.path.abspath(__file__))
PINS = os.path.join(HERE, "older-core.txt")
EE_REQUIREMENTS = os.path.join(ROOT, "meta", "ee-requirements.txt")
# The Python packages whose floors amazon.aws (and community.aws) state in their requirements.txt; ours
# (meta/ee-requirements.txt) are the same or higher, where our modules need more.
AWS_SDK = ("boto3", "botocore")


def requirements(path):
    """The requirement lines of a pip requirements file, parsed."""
    with open(path) as handle:
        lines = [line.split("#")[0].strip() for line in handle]
    return [Requirement(line) for line in lines if line]


def floors(path):
    """{package: its >= floor} of a requirements file, for the AWS SDK packages."""
    found = {}
    for req in requirements(path):
        if req.name.lower() in AWS_SDK:
            found[req.name.lower()] = [s.version for s in req.specifier if s.operator == ">="]
    return found


def venv_pins():
    """What the older line's venv installs: older-core.txt's pins, boto3 and botocore at our floors."""
    pins = [str(req) for req in requirements(PINS)]
    pins += ["%s==%s" % (name, versions[0]) for name, versions in sorted(floors(EE_REQUIREMENTS).items())]
    return pins


def older_core():
    """The pinned ansible-core version of older-core.txt."""
    (req,) = [r for r in requirements(PINS) if r.name == "ansible-core"]
    (spec,) = req.specifier
    assert spec.operator == "==", "older-core.txt pins ansible-core with ==, not %s" % spec
    return Version(spec.version)


def line(version):
    return "%d.%d" % (version.major, version.minor)


def venv_core():
    from ansible.release import __version__  # pylint: disable=import-outside-toplevel
    return Version(__version__)


def requires_ansible(path):
    """The floor of a collection's meta/runtime.yml requires_ansible (">=X.Y.Z")."""
    with open(path) as handle:
        spec = yaml.safe_load(handle)["requires_ansible"]
    match = re.fullmatch(r">=\s*([0-9.]+)", spec.strip())
    assert match, "requires_ansible is not a plain floor: %s" % spec
    return Version(match.group(1))


def test_requires_ansible_is_the_older_line_make_test_runs():
    ours = requires_ansible(os.path.join(ROOT, "meta", "runtime.yml"))
    assert ours == Version(line(older_core()) + ".0"), (ours, older_core())
    # Each role's Galaxy metadata says the same.
    roles = os.path.join(ROOT, "roles")
    for role in sorted(os.listdir(roles)):
        with open(os.path.join(roles, role, "meta", "main.yml")) as handle:
            info = yaml.safe_load(handle)["galaxy_info"]
        assert str(info["min_ansible_version"]) == line(older_core()), role
    # The venv's line is the newer one tested (test_installed.py), not the same one twice.
    assert venv_core() > older_core() and line(venv_core()) != line(older_core())
    # What the dependency collections accept covers it.
    for dep in ("amazon/aws", "community/aws", "community/docker"):
        theirs = requires_ansible(os.path.join(SITE, "ansible_collections", dep, "meta", "runtime.yml"))
        assert theirs <= ours, (dep, theirs)


def test_python_floors_agree_and_are_not_below_amazon_aws():
    ours = floors(EE_REQUIREMENTS)
    assert sorted(ours) == sorted(AWS_SDK) and all(len(v) == 1 for v in ours.values()), ours
    # Not below what the dependency collections state (their requirements.txt).
    for dep in ("amazon/aws", "community/aws"):
        for name, versions in floors(os.path.join(SITE, "ansible_collections", dep, "requirements.txt")).items():
            assert Version(ours[name][0]) >= Version(versions[0]), (dep, name, versions)
    # The same floors wherever a user or a developer reads them.
    assert floors(os.path.join(ROOT, "requirements.in")) == ours
    with open(os.path.join(ROOT, "README.md")) as handle:
        readme = handle.read()
    section = readme[readme.index("## Installed from the tarball"):]
    section = section[:section.index("\n## ", 1)]
    for name, versions in ours.items():
        assert "'%s>=%s'" % (name, versions[0]) in section, name
    # The README names the lines tested, and the newer ones as untested here.
    for version in (older_core(), venv_core()):
        assert "ansible-core %s" % line(version) in section, line(version)
    assert "Python 3.12" in section and "untested" in section


def pip_failure(what, proc, venv):
    pytest.fail("cannot set up the venv of ansible-core %s in %s: %s failed (exit %s):\n%s%s\n"
                "Remove that folder and rerun; PyPI must be reachable for its first setup."
                % (older_core(), venv, what, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))


@pytest.fixture(scope="module")
def core_bin():
    """The bin folder of the older line's venv, made when missing or when its pins changed."""
    pins = venv_pins()
    venv = os.path.join(ROOT, ".cache", "venv-ansible-core-%s" % line(older_core()))
    key = json.dumps({"python": list(sys.version_info[:3]), "base": sys.base_prefix, "pins": pins})
    record = os.path.join(venv, "cloudlab-pins.json")
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    # Two pytest runs of one checkout make it once.
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = None
        if os.path.isfile(record):
            with open(record) as handle:
                current = handle.read()
        if current != key:
            shutil.rmtree(venv, ignore_errors=True)
            for what, cmd in (("venv", [sys.executable, "-m", "venv", venv]),
                              ("pip install", [os.path.join(venv, "bin", "python"), "-m", "pip", "install",
                                               "--quiet", "--disable-pip-version-check"] + pins)):
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
                if proc.returncode != 0:
                    shutil.rmtree(venv, ignore_errors=True)
                    pip_failure(what, proc, venv)
            with open(record, "w") as handle:
                handle.write(key)
    return os.path.join(venv, "bin")


def test_the_older_lines_venv_holds_its_pins(core_bin):
    out = run([os.path.join(core_bin, "ansible-playbook"), "--version"])
    assert "[core %s]" % older_core() in out.splitlines()[0], out
    assert "python version = %d.%d.%d" % sys.version_info[:3] in out, out
    versions = json.loads(run([os.path.join(core_bin, "python"), "-c",
                               "import json, boto3, botocore; "
                               "print(json.dumps({'boto3': boto3.__version__, 'botocore': botocore.__version__}))"]))
    assert versions == {name: v[0] for name, v in floors(EE_REQUIREMENTS).items()}


@pytest.fixture(scope="module")
def installed(built, core_bin, tmp_path_factory):
    """The tarball installed by the older line's ansible-galaxy: (home, installed tree, env)."""
    home = tmp_path_factory.mktemp("user-core-%s" % line(older_core()))
    _collections, target, env = install(built.tarball, home, core_bin)
    return home, target, env


def test_ansible_test_sanity_passes_on_the_older_line(installed, core_bin):
    require_binary("shellcheck")
    _home, target, _env = installed
    proc = subprocess.run(["bash", os.path.join(ROOT, "tests", "sanity.sh")], capture_output=True, text=True,
                          env=dict(os.environ, VENV=os.path.dirname(core_bin), SANITY_COLLECTION_DIR=str(target)),
                          check=False, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "Skipping sanity test 'shellcheck'" not in proc.stdout + proc.stderr
    # Every test of the older line's ansible-test ran, none was skipped for a missing tool or Python.
    ran = re.findall(r'Running sanity test "([a-z0-9-]+)"', proc.stdout + proc.stderr)
    assert {"validate-modules", "import", "pylint", "ansible-doc", "runtime-metadata"} <= set(ran), ran


def playbook(core_bin, cloud, name, target, home, env, extra_vars=None):
    """`name` run by the older line's ansible-playbook with the installed sample inventory (JSON callback)."""
    cmd = [os.path.join(core_bin, "ansible-playbook"), "-i", str(target / "inventories" / "local"), name]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    run_env = dict(cloud.env(), **env)
    # A collection whose requires_ansible leaves this line out (ours or a dependency) fails the run.
    run_env.update(LOCALCLOUD_ENDPOINT=cloud.endpoint, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                   ANSIBLE_COLLECTIONS_ON_ANSIBLE_VERSION_MISMATCH="error")
    return PlaybookResult(subprocess.run(cmd, cwd=str(home), env=run_env, capture_output=True, text=True,
                                         timeout=900, check=False))


def test_phase5_and_the_lab_read_run_on_the_older_line(installed, core_bin, cloud, archives, tmp_path):  # noqa: F811
    home, target, env = installed
    lab = playbook(core_bin, cloud, "cloudlab.microservices.lab_environment", target, home, env)
    assert lab.rc == 0, failure_messages(lab)
    result = playbook(core_bin, cloud, "cloudlab.microservices.phase5", target, home, env,
                      extra_vars=phase5_vars(tmp_path, archives))
    assert_phase5_made_the_lab(result, archives)
    # The read of the whole lab (status.yml, as plan.yml and Phases 6, 7 and 9 read it): Phase 5 done.
    status = playbook(core_bin, cloud, "cloudlab.microservices.status", target, home, env,
                      extra_vars={"status_format": "json"})
    assert status.rc == 0, failure_messages(status)
    shown = [task["hosts"]["localhost"]["msg"] for play in status.data()["plays"] for task in play["tasks"]
             if task["task"]["name"] == "Show where the lab stands, as JSON"]
    checklist = dict((item["task"], item["state"]) for item in json.loads(shown[0])["checklist"])
    assert [checklist[task] for task in ("5.1", "5.2", "5.3", "5.4", "5.5", "5.6")] == ["done"] * 6, checklist
    # Nothing about the version either: no deprecation (amazon.aws prints one on every run of 2.17).
    runs = lab.output + result.output + status.output
    assert "does not support Ansible version" not in runs and "[DEPRECATION WARNING]" not in runs
