"""The local cloud's pytest plugin: a cloud, a Docker engine and the lab's account for the tests that use them.

Load it with ``pytest_plugins = ["localcloud.testing"]`` in a top-level conftest.py. It gives the fixtures

- ``local_cloud`` (session): one local cloud on a free port of 127.0.0.1; ``cloud``: the same, emptied first;
- ``dockerd`` (session): a Docker engine of the session's own (root only), its environment (DOCKER_HOST);
- ``release_cloud`` (module): a cloud of its own with short CodeDeploy waits (an AWS minute of 0.3 s), for
  the release loop; ``fresh_release_lab``: Phases 5 to 8 just made there with boto3 (`localcloud.testing.lab`),
  the pipelines' first executions possibly still running; ``release_lab``: the same once they have ended;
- ``lab_pipelines``: how that lab declares its pipelines (`lab.LabPipelines`); a conftest overrides it to
  test another declaration (the collection's own rules);

and ``require_binary(name)``, which skips a test outside CI and fails it in CI when a system binary is
missing. The launcher and the helpers without pytest are in `localcloud.testing.cloud` (a benchmark imports
them alone); the checks of raw answers against botocore's models in `localcloud.testing.wire`.
"""
import os
import shutil

import pytest

from localcloud.testing.cloud import LocalCloud, start_dockerd, stop_dockerd
from localcloud.testing.lab import LabPipelines, first_executions, phases5to8, push_image, traffic, wait_execution

# Short waits on the release cloud: the termination wait, and an AWS minute of a canary or linear traffic shift.
RELEASE_CLOUD_ENV = {"LOCALCLOUD_CODEDEPLOY_TERMINATION_SECONDS": "0.2", "LOCALCLOUD_CODEDEPLOY_MINUTE_SECONDS": "0.3"}


def require_binary(name):
    """Skip (outside CI) or fail (in CI) when a system binary is missing."""
    if shutil.which(name):
        return
    if os.environ.get("CI"):
        pytest.fail("%s is required in CI (make system-deps installs it)" % name)
    pytest.skip("%s is not installed (make system-deps installs it)" % name)


@pytest.fixture(scope="session")
def local_cloud(tmp_path_factory):
    """One local cloud for the whole session; use `cloud` for a clean one per test."""
    cloud = LocalCloud(tmp_path_factory.mktemp("localcloud")).start()
    yield cloud
    cloud.stop()


@pytest.fixture
def cloud(local_cloud):
    """The session's local cloud, emptied before the test."""
    local_cloud.reset()
    return local_cloud


@pytest.fixture(scope="session")
def dockerd():
    """A Docker engine of our own on a unix socket under a temp folder; its environment (DOCKER_HOST)."""
    require_binary("dockerd")
    require_binary("docker")
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("dockerd needs root, and CI must run the Docker tests")
        pytest.skip("dockerd needs root")
    try:
        proc, base, env = start_dockerd()
    except RuntimeError as e:
        pytest.fail(str(e))
    yield env
    stop_dockerd(proc, base)


@pytest.fixture(scope="module")
def release_cloud(tmp_path_factory):
    """A local cloud of the module's own, with short CodeDeploy waits (RELEASE_CLOUD_ENV)."""
    cloud = LocalCloud(tmp_path_factory.mktemp("releasecloud"), env=RELEASE_CLOUD_ENV).start()
    yield cloud
    cloud.stop()


@pytest.fixture
def lab_pipelines():
    """The pipelines' declaration of the boto3 lab: name(svc), stages(...), rules(...)."""
    return LabPipelines


@pytest.fixture
def fresh_release_lab(release_cloud, tmp_path, lab_pipelines):
    """Phases 5 to 8 just done: the pipelines' first executions (CreatePipeline's) may still run."""
    cloud = release_cloud
    cloud.reset()
    made = phases5to8(cloud, tmp_path, lambda svc: push_image(cloud, svc, "1"), lab_pipelines)
    yield made
    # Nothing of this lab may still run when the next test resets the cloud: the newest execution of each pipeline
    # ended means every one before it did (one worker runs them in the order started).
    for svc in made["target_groups"]:
        wait_execution(cloud, lab_pipelines.name(svc))


@pytest.fixture
def release_lab(fresh_release_lab, lab_pipelines):
    """Phases 5 to 8 done: first images as latest, the lab's deployment files on dev, and each pipeline's first
    execution (started by CreatePipeline) ended: version 1 deployed, both listeners on tg-one."""
    made = fresh_release_lab
    cloud = made["cloud"]
    made["first"] = first_executions(cloud, lab_pipelines)
    for svc, execution in made["first"].items():
        assert execution["status"] == "Succeeded", execution
        assert dict((r["name"], r["revisionId"]) for r in execution["artifactRevisions"])[
            "image-%s" % svc] == made["digests"][svc]
        assert traffic(cloud, made, svc) == {"production": ["%s-tg-one" % svc], "test": ["%s-tg-one" % svc]}
    return made
