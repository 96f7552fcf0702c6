"""CodePipeline as AWS answers it, from localcloud/patches/fixes/codepipeline.py."""
import copy
import json
import subprocess
import time

import botocore.exceptions
import pytest

from localcloud.testing.wire import error_code


def _action(name, category, provider, inputs=(), outputs=(), run_order=1):
    return {"name": name, "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"},
            "runOrder": run_order, "inputArtifacts": [{"name": n} for n in inputs],
            "outputArtifacts": [{"name": n} for n in outputs], "configuration": {}}


@pytest.fixture
def role(cloud):
    # Several services in the trust policy, as the lab's PipelineRole has: moto alone refuses this one.
    return cloud.client("iam").create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
            "Service": ["ecs-tasks.amazonaws.com", "codepipeline.amazonaws.com"]}}]}))["Role"]["Arn"]


@pytest.fixture
def declaration(role):
    return {"name": "p", "roleArn": role, "artifactStore": {"type": "S3", "location": "bucket-of-p"},
            "stages": [{"name": "Source", "actions": [_action("Source", "Source", "CodeCommit", outputs=["A"])]},
                       {"name": "Deploy", "actions": [_action("Deploy", "Deploy", "CodeDeployToECS", inputs=["A"])]}]}


def _ended(codepipeline, name, count=1, timeout=30):
    """The executions of `name` once there are `count` and none is InProgress (polled)."""
    deadline = time.time() + timeout
    while True:
        runs = codepipeline.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
        if len(runs) >= count and all(r["status"] != "InProgress" for r in runs):
            return runs
        assert time.time() < deadline, "executions of %s still running after %ss: %s" % (name, timeout, runs)
        time.sleep(0.1)


def _repository_with_a_commit(cloud, tmp_path):
    """CodeCommit repository r, branch main with one commit (no taskdef.json); returns the commit id."""
    cloud.client("codecommit").create_repository(repositoryName="r")
    work = tmp_path / "r"
    work.mkdir()
    (work / "README.md").write_text("r\n")
    env = dict(cloud.env(), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "first"],
                 ["push", "-q", "%s/v1/repos/r" % cloud.endpoint, "main"]):
        subprocess.run(["git"] + args, cwd=str(work), env=env, check=True, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=str(work), env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_create_starts_one_execution_and_update_none(cloud, declaration, tmp_path):
    """As on AWS: CreatePipeline runs the new pipeline once (trigger CreatePipeline, the caller's ARN)."""
    commit = _repository_with_a_commit(cloud, tmp_path)
    declaration["stages"][0]["actions"][0]["configuration"] = {"RepositoryName": "r", "BranchName": "main"}
    declaration["stages"][1]["actions"][0]["configuration"] = {"TaskDefinitionTemplateArtifact": "A"}
    codepipeline = cloud.client("codepipeline")
    codepipeline.create_pipeline(pipeline=declaration)
    caller = cloud.client("sts").get_caller_identity()["Arn"]

    runs = _ended(codepipeline, "p")
    assert len(runs) == 1
    assert runs[0]["trigger"] == {"triggerType": "CreatePipeline", "triggerDetail": caller}
    execution = codepipeline.get_pipeline_execution(pipelineName="p", pipelineExecutionId=runs[0][
        "pipelineExecutionId"])["pipelineExecution"]
    assert execution["trigger"] == runs[0]["trigger"]
    # It ran to its end: the source recorded the branch's commit, then Deploy failed (no taskdef.json there).
    assert execution["status"] == "Failed"
    assert execution["artifactRevisions"][0]["revisionId"] == commit
    actions = codepipeline.list_action_executions(pipelineName="p")["actionExecutionDetails"]
    assert sorted((a["actionName"], a["status"]) for a in actions) == [("Deploy", "Failed"), ("Source", "Succeeded")]
    state = codepipeline.get_pipeline_state(name="p")["stageStates"]
    assert [(s["stageName"], s["latestExecution"]["status"]) for s in state] == [
        ("Source", "Succeeded"), ("Deploy", "Failed")]

    # UpdatePipeline starts none.
    declaration["stages"][1]["actions"][0]["configuration"]["TaskDefinitionTemplatePath"] = "other.json"
    assert codepipeline.update_pipeline(pipeline=declaration)["pipeline"]["version"] == 2
    assert codepipeline.list_pipeline_executions(pipelineName="p")["pipelineExecutionSummaries"] == runs

    # StartPipelineExecution names its caller too.
    started = codepipeline.start_pipeline_execution(name="p")["pipelineExecutionId"]
    runs = _ended(codepipeline, "p", count=2)
    assert [(r["pipelineExecutionId"], r["trigger"]) for r in runs[:1]] == [
        (started, {"triggerType": "StartPipelineExecution", "triggerDetail": caller})]

    # A pipeline deleted and made again under its name starts with its own first execution only.
    codepipeline.delete_pipeline(name="p")
    codepipeline.create_pipeline(pipeline=declaration)
    runs = _ended(codepipeline, "p")
    assert [r["trigger"]["triggerType"] for r in runs] == ["CreatePipeline"]


def test_create_with_a_role_trusting_several_services_and_defaults_shown(cloud, declaration):
    codepipeline = cloud.client("codepipeline")
    codepipeline.create_pipeline(pipeline=declaration)
    pipeline = codepipeline.get_pipeline(name="p")["pipeline"]
    assert (pipeline["pipelineType"], pipeline["executionMode"], pipeline["version"]) == ("V1", "SUPERSEDED", 1)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codepipeline.create_pipeline(pipeline=declaration)
    assert error_code(excinfo) == "PipelineNameInUseException"


def test_role_that_does_not_trust_codepipeline(cloud, declaration):
    other = cloud.client("iam").create_role(RoleName="Other", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}))["Role"]["Arn"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.client("codepipeline").create_pipeline(pipeline=dict(declaration, roleArn=other))
    assert error_code(excinfo) == "InvalidStructureException"


def _broken(declaration, fault):
    broken = copy.deepcopy(declaration)
    stages = broken["stages"]
    if fault == "unknown-input":
        stages[1]["actions"][0]["inputArtifacts"] = [{"name": "B"}]
    elif fault == "duplicate-output":
        stages[0]["actions"].append(_action("Again", "Source", "ECR", outputs=["A"]))
    elif fault == "source-later":
        stages[1]["actions"].append(_action("Late", "Source", "ECR", outputs=["C"]))
    elif fault == "deploy-first":
        stages[0]["actions"].append(_action("Early", "Deploy", "CodeDeployToECS"))
    elif fault == "same-run-order":
        stages[1]["actions"].append(_action("Uses", "Deploy", "CodeDeployToECS", inputs=["D"]))
        stages[1]["actions"].append(_action("Makes", "Build", "CodeBuild", inputs=["A"], outputs=["D"]))
    elif fault == "type":
        broken["pipelineType"] = "V3"
    return broken


@pytest.mark.parametrize("fault, code", [
    ("unknown-input", "InvalidStructureException"), ("duplicate-output", "InvalidStructureException"),
    ("source-later", "InvalidStructureException"), ("deploy-first", "InvalidStructureException"),
    ("same-run-order", "InvalidStructureException"), ("type", "ValidationException"),
])
def test_declaration_faults_refused_on_create_and_update(cloud, declaration, fault, code):
    codepipeline = cloud.client("codepipeline")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codepipeline.create_pipeline(pipeline=_broken(declaration, fault))
    assert error_code(excinfo) == code
    codepipeline.create_pipeline(pipeline=declaration)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codepipeline.update_pipeline(pipeline=_broken(declaration, fault))
    assert error_code(excinfo) == code
    assert codepipeline.get_pipeline(name="p")["pipeline"]["version"] == 1


def test_eventbridge_rule_starts_the_pipeline_it_targets(cloud, declaration, role):
    codepipeline, events = cloud.client("codepipeline"), cloud.client("events")
    codepipeline.create_pipeline(pipeline=declaration)
    first = _ended(codepipeline, "p")
    events.put_rule(Name="on-dev", EventPattern=json.dumps({"source": ["aws.codecommit"],
                                                            "detail": {"referenceName": ["dev"]}}))
    queue = cloud.client("sqs").create_queue(QueueName="seen")["QueueUrl"]
    queue_arn = cloud.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    events.put_targets(Rule="on-dev", Targets=[
        {"Id": "pipeline", "Arn": "arn:aws:codepipeline:us-east-1:123456789012:p", "RoleArn": role},
        {"Id": "queue", "Arn": queue_arn}])
    for branch in ("main", "dev"):
        events.put_events(Entries=[{"Source": "aws.codecommit", "DetailType": "CodeCommit Repository State Change",
                                    "Detail": json.dumps({"referenceName": branch})}])
    runs = codepipeline.list_pipeline_executions(pipelineName="p")["pipelineExecutionSummaries"]
    # The matching event's execution, then the one CreatePipeline started.
    assert [r["trigger"] for r in runs] == [
        {"triggerType": "CloudWatchEvent", "triggerDetail": "arn:aws:events:us-east-1:123456789012:rule/on-dev"},
        first[0]["trigger"]]
    assert first[0]["trigger"]["triggerType"] == "CreatePipeline"
    # The other targets still get the event (moto's own delivery is kept).
    assert cloud.client("sqs").receive_message(QueueUrl=queue).get("Messages")
