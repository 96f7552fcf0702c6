"""The account after Phases 5 to 8, made with boto3 on a local cloud of its own (localcloud.testing).

The plugin's `release_cloud` runs with a short CodeDeploy termination wait and a short AWS minute, so a
release takes well under a second; its boto3 lab (`localcloud.testing.lab`, the same account as the Phase 8
tests') declares the pipelines and their EventBridge rules with the collection's own rules
(plugins/module_utils/_pipeline.py, tests/conftest.py's `lab_pipelines`). As on AWS, CreatePipeline runs each
pipeline once: that first execution deploys the first images (version 1) blue/green, which moves both
listeners of each service to tg-one; `lab` waits for it to end before a test acts, `fresh_lab` does not.
"""
import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab as LAB  # noqa: F401
from localcloud.testing.lab import (  # noqa: F401  pylint: disable=unused-import
    APP, CLUSTER, SERVICES, Deployment, appspec, first_executions, phases5to8, push_image, taskdef, traffic,
    wait_execution)


@pytest.fixture
def lab(release_lab):
    return release_lab


@pytest.fixture
def fresh_lab(fresh_release_lab):
    return fresh_release_lab
