"""Fixtures of the Phase 8 suite: what Phases 5 to 7 leave, made with boto3 (`make_lab` of localcloud.testing.lab).

The Phase 6 and 7 roles are built elsewhere at the same time: these tests do not depend on them. The
fixture makes what those phases leave in the account, with the lab's names: the lab network and roles, the
target group pairs, microservicesLB with its listeners and a second load balancer, the ECS cluster and
CODE_DEPLOY services, the ECR repositories, and the CodeCommit repository deployment with its files on dev.
"""
import pytest

from localcloud.testing.lab import CLUSTER, make_lab


@pytest.fixture
def lab8(cloud, tmp_path):
    """A clean local cloud holding what Phases 5 to 7 leave, and the extra vars that wire it."""
    made = make_lab(cloud, tmp_path)
    # DeployRole reaches codedeploy_service_role_arn through aws_context, as in the lab.
    # The cluster is made here, not by Phase 5's stack: its name is Phase 5's fact, as site.yml passes it on.
    made["extra_vars"] = {"aws_context_db_instance": "", "fargate_cluster_name": CLUSTER}
    return made
