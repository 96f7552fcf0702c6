"""playbooks/phase8.yml on the local cloud: check mode, converge, rerun, an in-place change, teardown.

One account goes through the whole life cycle in one test, because every playbook run costs tens of
seconds on a shared machine; each step asserts what breaks when its behaviour breaks. As on AWS, creating
a pipeline runs it once; this account has no image in ECR, so those first executions fail at the Image
source action.
"""
import json
import os
import time

from localcloud.testing.lab import SERVICES

from helpers import run_playbook

PHASE8 = os.path.join("playbooks", "phase8.yml")
DESTROY = os.path.join("playbooks", "destroy.yml")

APP = "microservices"


def _groups(cloud):
    codedeploy = cloud.client("codedeploy")
    names = ["%s-%s" % (APP, s) for s in SERVICES]
    return dict((g["deploymentGroupName"], g) for g in codedeploy.batch_get_deployment_groups(
        applicationName=APP, deploymentGroupNames=names)["deploymentGroupsInfo"])


def _state(cloud):
    """What Phase 8 makes, as names: applications, pipelines, our rules, buckets."""
    events = cloud.client("events")
    return {
        "applications": cloud.client("codedeploy").list_applications()["applications"],
        "pipelines": [p["name"] for p in cloud.client("codepipeline").list_pipelines()["pipelines"]],
        "rules": [r["Name"] for r in events.list_rules()["Rules"]],
        "buckets": [b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"]],
    }


def _ended(cloud, name, timeout=30):
    """The executions of pipeline `name` once none is InProgress (polled)."""
    deadline = time.time() + timeout
    while True:
        runs = cloud.client("codepipeline").list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
        if runs and all(r["status"] != "InProgress" for r in runs):
            return runs
        assert time.time() < deadline, "executions of %s still running after %ss: %s" % (name, timeout, runs)
        time.sleep(0.1)


def _recap(result):
    assert result.rc == 0, result
    return result.stats()["localhost"]


def test_phase8_life_cycle(cloud, lab8):
    ev = lab8["extra_vars"]

    # Check mode on an account without Phase 8: predicts, makes nothing.
    check = run_playbook(cloud, PHASE8, extra_vars=ev, check=True)
    assert _recap(check)["changed"] >= 2
    assert _state(cloud) == {"applications": [], "pipelines": [], "rules": [], "buckets": []}
    # No ansible-core deprecation (amazon.aws's exit_json(warnings=...)) from our modules on any phase.
    assert "DEPRECATION" not in check.output, check.output

    # Converge.
    assert _recap(run_playbook(cloud, PHASE8, extra_vars=ev))["changed"] >= 2
    groups = _groups(cloud)
    customer = groups["microservices-customer"]
    assert customer["serviceRoleArn"] == lab8["roles"]["DeployRole"]
    assert customer["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert customer["ecsServices"] == [{"serviceName": "customer-microservice",
                                        "clusterName": "microservices-serverlesscluster"}]
    pair = customer["loadBalancerInfo"]["targetGroupPairInfoList"][0]
    assert [t["name"] for t in pair["targetGroups"]] == ["customer-tg-two", "customer-tg-one"]
    assert pair["prodTrafficRoute"]["listenerArns"] == [lab8["listeners"]["production"]]
    assert pair["testTrafficRoute"]["listenerArns"] == [lab8["listeners"]["test"]]
    blue_green = customer["blueGreenDeploymentConfiguration"]
    assert blue_green["terminateBlueInstancesOnDeploymentSuccess"] == {"action": "TERMINATE",
                                                                       "terminationWaitTimeInMinutes": 5}
    assert blue_green["deploymentReadyOption"]["actionOnTimeout"] == "CONTINUE_DEPLOYMENT"
    assert customer["deploymentStyle"] == {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    assert set(groups) == {"microservices-customer", "microservices-employee"}

    pipeline = cloud.client("codepipeline").get_pipeline(name="update-employee-microservice")["pipeline"]
    assert pipeline["roleArn"] == lab8["roles"]["PipelineRole"]
    source, image = pipeline["stages"][0]["actions"]
    assert source["configuration"]["RepositoryName"] == "deployment"
    assert source["configuration"]["BranchName"] == "dev"
    assert source["outputArtifacts"] == [{"name": "SourceArtifact"}]
    assert image["configuration"] == {"RepositoryName": "employee", "ImageTag": "latest"}
    assert image["outputArtifacts"] == [{"name": "image-employee"}]
    deploy = pipeline["stages"][1]["actions"][0]
    assert deploy["actionTypeId"]["provider"] == "CodeDeployToECS"
    assert deploy["configuration"]["TaskDefinitionTemplatePath"] == "taskdef-employee.json"
    assert deploy["configuration"]["AppSpecTemplatePath"] == "appspec-employee.yaml"
    assert deploy["configuration"]["Image1ContainerName"] == "IMAGE1_NAME"
    assert deploy["configuration"]["DeploymentGroupName"] == "microservices-employee"
    state = _state(cloud)
    assert state["buckets"] == ["codepipeline-us-east-1-123456789012-microservices"]
    assert len(state["rules"]) == 4

    # CreatePipeline ran each pipeline once, as on AWS; with no latest image in ECR it failed at the Image action.
    caller = cloud.client("sts").get_caller_identity()["Arn"]
    for svc in SERVICES:
        name = "update-%s-microservice" % svc
        (first,) = _ended(cloud, name)
        assert first["trigger"] == {"triggerType": "CreatePipeline", "triggerDetail": caller}
        assert first["status"] == "Failed"
        actions = cloud.client("codepipeline").list_action_executions(pipelineName=name)["actionExecutionDetails"]
        assert sorted((a["actionName"], a["status"]) for a in actions) == [("Image", "Failed"), ("Source", "Succeeded")]
        assert "The image tag 'latest' does not exist in the repository '%s'" % svc in first["statusSummary"]

    # A push to dev (the event CodeCommit sends) starts both pipelines through the rules.
    cloud.client("events").put_events(Entries=[{
        "Source": "aws.codecommit", "DetailType": "CodeCommit Repository State Change",
        "Resources": ["arn:aws:codecommit:us-east-1:123456789012:deployment"],
        "Detail": json.dumps({"event": "referenceUpdated", "referenceType": "branch", "referenceName": "dev",
                              "repositoryName": "deployment"})}])
    # A new latest image of customer starts only customer's.
    cloud.client("events").put_events(Entries=[{
        "Source": "aws.ecr", "DetailType": "ECR Image Action",
        "Detail": json.dumps({"action-type": "PUSH", "image-tag": "latest", "repository-name": "customer",
                              "result": "SUCCESS"})}])
    executions = dict((name, len(cloud.client("codepipeline").list_pipeline_executions(pipelineName=name)[
        "pipelineExecutionSummaries"])) for name in ("update-customer-microservice", "update-employee-microservice"))
    assert executions == {"update-customer-microservice": 3, "update-employee-microservice": 2}
    for name in executions:
        _ended(cloud, name)

    # Rerun: nothing to do, and no execution started.
    assert _recap(run_playbook(cloud, PHASE8, extra_vars=ev))["changed"] == 0

    # A changed setting is updated in place, with a diff; the pipelines are not touched.
    group_id = customer["deploymentGroupId"]
    version = pipeline["version"]
    changed = run_playbook(cloud, PHASE8, diff=True, json_output=False, tags=["task8_1"], extra_vars=dict(
        ev, codedeploy_termination_wait_minutes=15,
        codedeploy_deployment_config="CodeDeployDefault.ECSLinear10PercentEvery1Minutes"))
    assert changed.rc == 0, changed
    assert "-                terminationWaitTimeInMinutes: 5" in changed.output
    assert "+                terminationWaitTimeInMinutes: 15" in changed.output
    assert "+        deploymentConfigName: CodeDeployDefault.ECSLinear10PercentEvery1Minutes" in changed.output
    after = _groups(cloud)["microservices-customer"]
    assert after["deploymentGroupId"] == group_id
    assert after["blueGreenDeploymentConfiguration"]["terminateBlueInstancesOnDeploymentSuccess"][
        "terminationWaitTimeInMinutes"] == 15
    assert after["deploymentConfigName"] == "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"
    assert cloud.client("codepipeline").get_pipeline(name="update-employee-microservice")["pipeline"]["version"] == version
    assert dict((name, len(_ended(cloud, name))) for name in executions) == executions

    # Teardown through destroy.yml, Phase 8 only (the services and the load balancer stay).
    _recap(run_playbook(cloud, DESTROY, tags=["phase8"], extra_vars=dict(ev, confirm=True)))
    assert cloud.client("ecs").describe_services(cluster="microservices-serverlesscluster", services=[
        "customer-microservice"])["services"][0]["status"] == "ACTIVE"
    assert _state(cloud) == {"applications": [], "pipelines": [], "rules": [], "buckets": []}
