"""What Phase 8 needs from Phases 5 to 7, made with boto3 on the local cloud (`make_lab` of localcloud.testing.lab).

The Phase 6 and 7 roles are built elsewhere at the same time: these tests do not depend on them. The
fixture makes what those phases leave in the account, with the lab's names: the lab network and roles, the
target group pairs, microservicesLB with its listeners and a second load balancer, the ECS cluster and
CODE_DEPLOY services, the ECR repositories, and the CodeCommit repository deployment with its files on dev.
"""
import os

import pytest

from localcloud.testing.cloud import request_counts
from localcloud.testing.lab import CLUSTER, SERVICES, make_lab  # noqa: F401  pylint: disable=unused-import


@pytest.fixture
def lab(cloud, tmp_path):
    """A clean local cloud holding what Phases 5 to 7 leave, and the extra vars that wire it."""
    made = make_lab(cloud, tmp_path)
    # DeployRole reaches codedeploy_service_role_arn through aws_context, as in the lab.
    # The cluster is made here, not by Phase 5's stack: its name is Phase 5's fact, as site.yml passes it on.
    made["extra_vars"] = {"aws_context_db_instance": "", "fargate_cluster_name": CLUSTER}
    return made


def codedeploy_calls(cloud):
    """Operations of the local cloud's request log, for asserting what a run did."""
    return request_counts(cloud)["services"]


PHASE8 = os.path.join("playbooks", "phase8.yml")
DESTROY = os.path.join("playbooks", "destroy.yml")
