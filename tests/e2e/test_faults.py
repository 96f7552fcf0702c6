"""A misbehaving cloud (/_localcloud/faults): transient errors are retried,
an outage fails the run with a clear message, and a rerun converges without
duplicating anything."""
import pytest

from localcloud.testing.cloud import add_fault, clear_faults, faults

from helpers import failure_messages, run_playbook
from helpers.phase5 import DESTROY, FAMILIES, PHASE5, SERVICES, dev_commits, phase5_vars, snapshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-faults")


def assert_one_of_everything(cloud, archives, workdir):
    state = snapshot(cloud)
    assert state["ecr"] == sorted(SERVICES)
    for name, digest in archives[1].items():
        assert state["images"][name] == [(digest, ("latest",))], state["images"]
    assert [s[1] for s in state["stacks"]] == ["CREATE_COMPLETE"]
    assert sorted(a.rsplit("/", 1)[1].split(":")[0] for a in state["task_definitions"]) == sorted(FAMILIES)
    assert state["codecommit"] == ["deployment"]
    return state


def test_transient_throttling_and_503_are_retried(lab, archives, workdir):
    # A few failures on each service the run writes to, early enough to hit
    # calls that create things.
    add_fault(lab, mode="throttle", count=2, match="ecr")
    add_fault(lab, mode="unavailable", count=2, match="cloudformation")
    add_fault(lab, mode="throttle", count=2, match="ecs")
    add_fault(lab, mode="unavailable", count=2, match="codecommit")
    result = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives))
    try:
        assert result.rc == 0, failure_messages(result)
        # Every rule was used up: the run did meet the errors.
        assert faults(lab) == []
    finally:
        clear_faults(lab)
    assert_one_of_everything(lab, archives, workdir)
    _head, commits = dev_commits(lab, workdir)
    assert len(commits) == 1


def test_outage_fails_clearly_and_a_rerun_converges_without_duplicates(lab, archives, workdir):
    destroyed = run_playbook(lab, DESTROY, extra_vars={
        "confirm": True, "phase5_destroy_local_dir": True,
        "taskdef_appspec_dir": phase5_vars(workdir, archives)["taskdef_appspec_dir"]})
    assert destroyed.rc == 0, failure_messages(destroyed)

    # CloudFormation stops answering CreateStack for the rest of the run (its
    # connections dropped): the run's one read (before any write) and ECR are
    # done by then, the cluster's stack not yet. A dropped connection, not a
    # 503: amazon.aws.cloudformation retries a 503 with its own backoff on top
    # of botocore's, which no AWS_MAX_ATTEMPTS shortens (about 4 minutes).
    add_fault(lab, mode="drop", count=10000, match="cloudformation.CreateStack")
    try:
        broken = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives), env={"AWS_MAX_ATTEMPTS": "3"})
    finally:
        clear_faults(lab)
    assert broken.rc != 0
    messages = failure_messages(broken)
    assert "Connection was closed" in messages or "Could not connect" in messages, messages
    assert "fargate_cluster" in messages, messages
    partial = snapshot(lab)
    assert partial["ecr"] == sorted(SERVICES) and partial["task_definitions"] == []

    rerun = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives))
    assert rerun.rc == 0, failure_messages(rerun)
    state = assert_one_of_everything(lab, archives, workdir)
    # The destroyed revisions stay INACTIVE; only one ACTIVE per family.
    assert len(state["task_definitions"]) == len(FAMILIES)
    # The deployment repository was recreated empty: exactly one commit on dev.
    _head, commits = dev_commits(lab, workdir)
    assert len(commits) == 1

    again = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives))
    assert again.rc == 0 and again.stats()["localhost"]["changed"] == 0, failure_messages(again)
    assert snapshot(lab) == state
