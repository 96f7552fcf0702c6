"""CodePipeline as AWS answers it, from localcloud/patches/codepipeline.py."""
import copy
import json

import botocore.exceptions
import pytest


def _code(excinfo):
    return excinfo.value.response["Error"]["Code"]


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


def test_create_with_a_role_trusting_several_services_and_defaults_shown(cloud, declaration):
    codepipeline = cloud.client("codepipeline")
    codepipeline.create_pipeline(pipeline=declaration)
    pipeline = codepipeline.get_pipeline(name="p")["pipeline"]
    assert (pipeline["pipelineType"], pipeline["executionMode"], pipeline["version"]) == ("V1", "SUPERSEDED", 1)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codepipeline.create_pipeline(pipeline=declaration)
    assert _code(excinfo) == "PipelineNameInUseException"


def test_role_that_does_not_trust_codepipeline(cloud, declaration):
    other = cloud.client("iam").create_role(RoleName="Other", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}))["Role"]["Arn"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        cloud.client("codepipeline").create_pipeline(pipeline=dict(declaration, roleArn=other))
    assert _code(excinfo) == "InvalidStructureException"


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
    assert _code(excinfo) == code
    codepipeline.create_pipeline(pipeline=declaration)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codepipeline.update_pipeline(pipeline=_broken(declaration, fault))
    assert _code(excinfo) == code
    assert codepipeline.get_pipeline(name="p")["pipeline"]["version"] == 1


def test_eventbridge_rule_starts_the_pipeline_it_targets(cloud, declaration, role):
    codepipeline, events = cloud.client("codepipeline"), cloud.client("events")
    codepipeline.create_pipeline(pipeline=declaration)
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
    assert len(runs) == 1  # only the matching event
    # The other targets still get the event (moto's own delivery is kept).
    assert cloud.client("sqs").receive_message(QueueUrl=queue).get("Messages")
