"""Issue 10, item 1: destroy, then Phase 5 again, keeps the lab's cluster name.

From the lab's starting point: phase5, destroy, phase5, destroy, phase5. Each
run of phase5 must use `microservices-serverlesscluster` (the later phases
of the lab need that name), never drift to `-c`, and never fail on the name.
Before the fix, the second run made `microservices-serverlesscluster-c` (the
deleted stack had left its cluster ACTIVE on the local cloud, and the name
probe counted any cluster it could list as taken) and the third failed.
"""
import pytest

from helpers import failure_messages, run_playbook, summary


from helpers.phase5 import DESTROY, PHASE5, phase5_vars, snapshot

pytestmark = pytest.mark.slow

NAME = "microservices-serverlesscluster"
STACK = "Infra-ECS-Cluster-" + NAME


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-destroy-rerun")


def cluster_statuses(cloud):
    ecs = cloud.client("ecs")
    return dict((c["clusterName"], c["status"])
                for c in ecs.describe_clusters(clusters=[NAME, NAME + "-c"])["clusters"])


def test_destroy_then_rerun_keeps_the_lab_cluster_name(lab, archives, workdir):
    extra = phase5_vars(workdir, archives)
    for attempt in (1, 2, 3):
        result = run_playbook(lab, PHASE5, extra_vars=extra)
        assert result.rc == 0, "run %d: %s" % (attempt, failure_messages(result))
        assert summary(result, 5)["cluster"] == NAME, "run %d" % attempt
        assert "%s-c" % NAME not in result.stdout, "run %d" % attempt
        state = snapshot(lab)
        assert state["stacks"] == [(STACK, "CREATE_COMPLETE")], "run %d" % attempt
        assert cluster_statuses(lab)[NAME] == "ACTIVE"
        if attempt == 3:
            break

        gone = run_playbook(lab, DESTROY, extra_vars=dict(extra, confirm=True))
        assert gone.rc == 0, "destroy %d: %s" % (attempt, failure_messages(gone))
        state = snapshot(lab)
        assert state["stacks"] == [] and state["ecr"] == [] and state["task_definitions"] == []
        # As on AWS: the stack's cluster went with it, still listed as INACTIVE.
        assert cluster_statuses(lab) == {NAME: "INACTIVE"}
