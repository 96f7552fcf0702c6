"""Phase 5 end to end on the local cloud: one converge shared by the module,
then a second run, check mode on the result, one lab task alone, teardown."""
import json
import os

import pytest

from helpers import changed_tasks, failure_messages, git, run_playbook, summary
from helpers.phase5 import DESTROY, FAMILIES, PHASE5, SERVICES, clone_url, dev_commits, phase5_vars, snapshot

pytestmark = pytest.mark.slow

FILES = sorted(["taskdef-%s.json" % n for n in SERVICES] + ["appspec-%s.yaml" % n for n in SERVICES])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-phase5")


@pytest.fixture(scope="module")
def converged(lab, archives, workdir):
    """One phase5 run from the lab's starting point."""
    result = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives))
    assert result.rc == 0, failure_messages(result)
    return result


def test_converge_creates_every_resource_of_the_lab(lab, converged, archives):
    state = snapshot(lab)
    assert state["ecr"] == sorted(SERVICES)
    for name, digest in archives[1].items():
        assert state["images"][name] == [(digest, ("latest",))]
    assert state["stacks"] == [("Infra-ECS-Cluster-microservices-serverlesscluster", "CREATE_COMPLETE")]
    assert [arn.rsplit("/", 1)[1] for arn in state["clusters"]] == ["microservices-serverlesscluster"]
    assert sorted(arn.rsplit("/", 1)[1] for arn in state["task_definitions"]) == sorted(f + ":1" for f in FAMILIES)
    assert state["codecommit"] == ["deployment"]
    assert converged.stats()["localhost"]["failures"] == 0
    # No deprecation warning from the collection's own modules on Phase 5's first run (the rerun: test_output).
    assert "DEPRECATION" not in converged.output, converged.output


def test_summary_reports_what_the_cloud_holds(lab, converged, archives, workdir):
    shown = summary(converged, 5)
    assert shown["repositories"] == archives[1]
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["cluster"] == "microservices-serverlesscluster"
    ecs = lab.client("ecs")
    for name, family in zip(SERVICES, FAMILIES):
        latest = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["taskDefinitionArn"]
        assert shown["task_definitions"][name] == latest
    _head, commits = dev_commits(lab, workdir)
    assert shown["deployment_dev_commit"] == commits[0]
    assert shown["deployment"] == clone_url(lab)
    assert sorted(shown["deployment_dev_files"]) == FILES


def test_deployment_dev_holds_the_four_files_with_placeholders(lab, converged, workdir):
    checkout, commits = dev_commits(lab, workdir)
    assert len(commits) == 1
    assert sorted(git("ls-files", cwd=checkout).split()) == FILES
    for name in SERVICES:
        with open(os.path.join(checkout, "taskdef-%s.json" % name)) as handle:
            taskdef = json.load(handle)
        assert taskdef["containerDefinitions"][0]["image"] == "<IMAGE1_NAME>"
        assert taskdef["executionRoleArn"].endswith(":role/PipelineRole")
        env = {e["name"]: e["value"] for e in taskdef["containerDefinitions"][0]["environment"]}
        assert env["APP_DB_HOST"].startswith("supplierdb.")
        with open(os.path.join(checkout, "appspec-%s.yaml" % name)) as handle:
            appspec = handle.read()
        assert "<TASK_DEFINITION>" in appspec and 'ContainerName: "%s"' % name in appspec


def test_second_run_changes_nothing(lab, converged, archives, workdir):
    before = snapshot(lab)
    again = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives))
    assert again.rc == 0, again
    assert again.stats()["localhost"]["changed"] == 0, changed_tasks(again)
    assert snapshot(lab) == before
    assert len(dev_commits(lab, workdir)[1]) == 1


def test_check_mode_after_converge_predicts_no_change(lab, converged, archives, workdir):
    before = snapshot(lab)
    check = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives), check=True, diff=True)
    assert check.rc == 0, check
    assert check.stats()["localhost"]["changed"] == 0, changed_tasks(check)
    assert snapshot(lab) == before


def test_one_lab_task_alone_runs_only_its_role(lab, converged, archives, workdir):
    result = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives), tags=["task5_2"])
    assert result.rc == 0, failure_messages(result)
    data = json.loads(result.stdout[result.stdout.index("{"):])
    ran = [task["task"]["name"] for play in data["plays"] for task in play["tasks"]]
    # The changing step of each role: only the cluster's runs (the other
    # roles' preflights and argument checks run too, tagged always).
    assert any("fargate_cluster : Choose the cluster's name" in name for name in ran), ran
    for step in ("ecr_repos : Create or update one repository per service",
                 "image_push : Push every image, from its archive or the Docker engine, through the ECR API",
                 "codecommit_repo : Create the repository or update its description",
                 "taskdef_appspec : Register the task definitions that changed"):
        assert not any(name.endswith(step) for name in ran), step
    assert result.stats()["localhost"]["changed"] == 0, changed_tasks(result)
    shown = summary(result, 5)
    assert shown["stack_status"] == "CREATE_COMPLETE" and shown["task_definitions"] == {}


def test_destroy_asks_first_then_removes_everything_and_is_harmless_twice(lab, converged, workdir):
    vars_ = {"taskdef_appspec_dir": os.path.join(str(workdir), "deployment")}
    refused = run_playbook(lab, DESTROY, extra_vars=vars_)
    assert refused.rc != 0
    assert "confirm=true" in failure_messages(refused)
    assert snapshot(lab)["ecr"] == sorted(SERVICES)

    first = run_playbook(lab, DESTROY, extra_vars=dict(vars_, confirm=True))
    assert first.rc == 0, first
    state = snapshot(lab)
    assert state == {"ecr": [], "images": {}, "stacks": [], "clusters": state["clusters"],
                     "task_definitions": [], "codecommit": []}
    # The local folder stays unless asked for.
    assert os.path.isdir(vars_["taskdef_appspec_dir"])

    second = run_playbook(lab, DESTROY, extra_vars=dict(vars_, confirm=True, phase5_destroy_local_dir=True))
    assert second.rc == 0, second
    assert second.stats()["localhost"]["changed"] == 1, changed_tasks(second)  # the folder only
    assert not os.path.exists(vars_["taskdef_appspec_dir"])
