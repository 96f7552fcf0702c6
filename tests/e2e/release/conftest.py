"""Fixtures of the release tests: the account after Phases 5 to 8 made with boto3 (localcloud.testing.lab).

On the plugin's `release_cloud` (tasks off, a short CodeDeploy termination wait and AWS minute): `lab` is
the lab once the pipelines' first executions (CreatePipeline's, version 1 deployed to tg-one) have ended,
`fresh_lab` right after Phase 8. The pipelines and their EventBridge rules are the collection's own
(tests/conftest.py's `lab_pipelines`). On `live_cloud` (tasks as containers on the session's Docker engine,
listeners on 127.0.0.1): `live_lab`, version 1 of both sample images deployed.
"""
import pytest

from localcloud.testing import require_binary
from localcloud.testing.cloud import LocalCloud
from localcloud.testing.lab import phases5to8

from helpers.live import CUSTOMER, EMPLOYEE, employee_health_check, ended, push_sample


@pytest.fixture
def lab(release_lab):
    return release_lab


@pytest.fixture
def fresh_lab(fresh_release_lab):
    return fresh_release_lab


@pytest.fixture(scope="module")
def live_cloud(tmp_path_factory, dockerd):
    require_binary("busybox")
    cloud = LocalCloud(tmp_path_factory.mktemp("livecloud"), env={
        "LOCALCLOUD_TASKS": "on", "DOCKER_HOST": dockerd["DOCKER_HOST"],
        "LOCALCLOUD_CODEDEPLOY_TERMINATION_SECONDS": "0.5", "LOCALCLOUD_TASK_START_SECONDS": "30"}).start()
    yield cloud
    cloud.stop()


@pytest.fixture
def live_lab(live_cloud, tmp_path, lab_pipelines):
    """Phases 5 to 8 on the live cloud, version 1 of both samples deployed by the pipelines' first executions."""
    cloud = live_cloud
    cloud.reset()
    made = phases5to8(cloud, tmp_path, lambda svc: push_sample(cloud, svc, "1"), lab_pipelines,
                      prepare=employee_health_check)
    for pipeline in (CUSTOMER, EMPLOYEE):
        execution = ended(cloud, pipeline, 1)
        assert execution["status"] == "Succeeded", execution
        assert execution["trigger"]["triggerType"] == "CreatePipeline"
    return made
