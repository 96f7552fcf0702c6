"""Bad inputs to playbooks/phase8.yml are refused before anything changes in the account."""
import os
import subprocess

import pytest

from helpers import run_playbook

PHASE8 = os.path.join("playbooks", "phase8.yml")


def _nothing_made(cloud):
    assert cloud.client("codedeploy").list_applications()["applications"] == []
    assert cloud.client("codepipeline").list_pipelines()["pipelines"] == []
    assert cloud.client("events").list_rules()["Rules"] == []
    assert cloud.client("s3").list_buckets()["Buckets"] == []


def test_group_for_a_missing_service_and_a_listener_of_another_load_balancer(cloud, lab8):
    result = run_playbook(cloud, PHASE8, json_output=False, extra_vars=dict(
        lab8["extra_vars"],
        microservices=[{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*"},
                       {"name": "orders", "path_pattern": "/orders/*"}],
        codedeploy_listener_arns={"production": lab8["other_listener"], "test": lab8["listeners"]["test"]}))
    assert result.rc != 0, result
    assert "deployment_groups[microservices-orders].service: ECS service 'orders-microservice' does not exist " \
           "in cluster 'microservices-serverlesscluster'" in result.output
    assert "deployment_groups[microservices-customer].production_listener_arn: listener %s belongs to load " \
           "balancer" % lab8["other_listener"] in result.output
    assert "nothing changed" in result.output
    _nothing_made(cloud)


def test_pipeline_whose_taskdef_is_not_on_the_branch(cloud, lab8, tmp_path):
    work = str(tmp_path / "deployment")
    env = dict(cloud.env(), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    for args in (["rm", "-q", "taskdef-employee.json"], ["commit", "-q", "-m", "drop employee's taskdef"],
                 ["push", "-q", "%s/v1/repos/deployment" % cloud.endpoint, "dev"]):
        subprocess.run(["git"] + args, cwd=work, env=env, check=True, capture_output=True)
    result = run_playbook(cloud, PHASE8, json_output=False, tags=["task8_2"], extra_vars=lab8["extra_vars"])
    assert result.rc != 0, result
    assert "pipelines[update-employee-microservice]: TaskDefinitionTemplatePath 'taskdef-employee.json' of action " \
           "Deploy is not in CodeCommit repository 'deployment' on branch 'dev'" in result.output
    assert "update-customer-microservice]: TaskDefinitionTemplatePath" not in result.output
    _nothing_made(cloud)


@pytest.mark.parametrize("extra, expected", [
    # An image tag ECR can never hold: the pipelines would watch a tag no push gives.
    ({"pipelines_image_tag": "bad tag!"}, "pipelines_image_tag 'bad tag!': an ECR image tag is 1 to 128 letters"),
    # Refused by git: AWS would say so only after task 8.1, without naming the variable.
    ({"pipelines_branch": "bad..branch"}, "pipelines_branch 'bad..branch' is not a git branch name: it holds '..'"),
    ({"codedeploy_application_name": "a" * 120},
     "codedeploy_application_name '%s'... (120 characters): a CodeDeploy name is 1 to 100" % ("a" * 40)),
])
def test_a_value_aws_or_git_refuses_stops_the_run_before_task_8_1(cloud, lab8, extra, expected):
    result = run_playbook(cloud, PHASE8, extra_vars=dict(lab8["extra_vars"], **extra))
    assert result.rc != 0, result
    failed = [task for play in result.data()["plays"] for task in play["tasks"]
              if task["hosts"].get("localhost", {}).get("failed")]
    # The phase's preflight, one task for both roles, names the role at fault.
    assert [task["task"]["name"] for task in failed] == ["Check the inputs of the phase's roles before anything changes"], \
        result
    message = failed[0]["hosts"]["localhost"]["msg"]
    assert message.startswith("Failed to validate the %s role's inputs: " % (
        "codedeploy" if "codedeploy_application_name" in extra else "pipelines")), message
    assert expected in message
    # One line per wrong value, a long value quoted short.
    assert message.count(list(extra.values())[0][:40]) == 1, message
    _nothing_made(cloud)
