"""After a release, a rerun of Phases 6 to 8 changes nothing: the roles take either target group of a
pair as converged, so they never move traffic back behind CodeDeploy's back.

The account is made by the playbooks themselves (lab_environment.yml, then phases 6 to 8 in one run);
Phase 5's cluster, task definitions, images and deployment files are made with boto3. As on AWS, Phase 8's
CreatePipeline runs each pipeline once, which moves each service to tg-one; two releases then move it to
tg-two and back to tg-one, so the rerun meets traffic on the target group the roles did not put it on.
"""
import json
import os

import pytest

from localcloud.testing.lab import (
    SERVICES, Deployment, appspec, first_executions, push_image, taskdef, traffic, wait_execution)

from helpers import changed_tasks, failure_messages, run_playbook
from helpers.ownership import missing as untagged

PLAYS = os.path.join("tests", "e2e", "release", "plays", "phases6to8.yml")
CLUSTER = "microservices-serverlesscluster"


@pytest.mark.slow
def test_rerun_after_a_release_changes_nothing(release_cloud, tmp_path, lab_pipelines):
    cloud = release_cloud
    cloud.reset()
    assert run_playbook(cloud, "playbooks/lab_environment.yml", json_output=False).rc == 0
    ecs = cloud.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    role = cloud.client("iam").get_role(RoleName="PipelineRole")["Role"]["Arn"]
    for svc in SERVICES:
        cloud.client("ecr").create_repository(repositoryName=svc)
        push_image(cloud, svc, "1")
        definition = taskdef(svc, image="%s:latest" % svc)
        ecs.register_task_definition(family=definition["family"], networkMode="awsvpc", cpu="512", memory="1024",
                                     requiresCompatibilities=["FARGATE"], executionRoleArn=role,
                                     containerDefinitions=definition["containerDefinitions"])
    deployment = Deployment.create(cloud, tmp_path / "deployment")
    files = {}
    for svc in SERVICES:
        files["taskdef-%s.json" % svc] = json.dumps(taskdef(svc), indent=2)
        files["appspec-%s.yaml" % svc] = appspec(svc)
    deployment.push(files, "lab deployment files")

    # The cluster is made above, not by Phase 5's stack: its name is Phase 5's fact, as site.yml passes it on.
    extra = {"aws_context_db_instance": "", "fargate_cluster_name": CLUSTER}
    first = run_playbook(cloud, PLAYS, extra_vars=extra)
    assert first.rc == 0, failure_messages(first)
    assert changed_tasks(first), "the first run changed nothing: the rerun check below would prove nothing"
    # What Phases 6 to 8 made carries the ownership tags (Phase 5's repositories and stack: e2e/test_phase5.py).
    phases6to8 = ("target_groups", "load_balancer", "security_group", "ecs_services", "codedeploy_application",
                  "deployment_groups", "pipelines", "event_rules", "bucket")
    assert untagged(cloud, SERVICES, phases6to8) == []
    listeners = dict((listener["Port"], listener["ListenerArn"]) for listener in cloud.client("elbv2").describe_listeners(
        LoadBalancerArn=cloud.client("elbv2").describe_load_balancers(Names=["microservicesLB"])[
            "LoadBalancers"][0]["LoadBalancerArn"])["Listeners"])
    groups = dict((g["TargetGroupName"], g["TargetGroupArn"])
                  for g in cloud.client("elbv2").describe_target_groups()["TargetGroups"])
    made = {"listeners": {"production": listeners[80], "test": listeners[8080]},
            "target_groups": dict((s, dict((w, {"name": "%s-tg-%s" % (s, w), "arn": groups["%s-tg-%s" % (s, w)]})
                                           for w in ("one", "two"))) for s in SERVICES)}
    # CreatePipeline's first execution of each pipeline deployed version 1 blue/green: tg-one.
    for svc, execution in first_executions(cloud, lab_pipelines).items():
        assert execution["status"] == "Succeeded", execution
        assert traffic(cloud, made, svc) == {"production": ["%s-tg-one" % svc], "test": ["%s-tg-one" % svc]}

    # A release: a new latest image of each service (tg-two), then a push to dev that starts both (tg-one).
    for svc in SERVICES:
        push_image(cloud, svc, "2")
        execution = wait_execution(cloud, "update-%s-microservice" % svc, count=2)[0]
        assert execution["status"] == "Succeeded", execution
        assert traffic(cloud, made, svc) == {"production": ["%s-tg-two" % svc], "test": ["%s-tg-two" % svc]}
    deployment.push({"README.md": "release 3\n"}, "a change on dev")
    for svc in SERVICES:
        execution = wait_execution(cloud, "update-%s-microservice" % svc, count=3)[0]
        assert execution["status"] == "Succeeded", execution
        assert traffic(cloud, made, svc) == {"production": ["%s-tg-one" % svc], "test": ["%s-tg-one" % svc]}

    again = run_playbook(cloud, PLAYS, extra_vars=extra)
    assert again.rc == 0, failure_messages(again)
    assert changed_tasks(again) == []
    assert untagged(cloud, SERVICES, phases6to8) == []
    for svc in SERVICES:
        summaries = cloud.client("codepipeline").list_pipeline_executions(
            pipelineName="update-%s-microservice" % svc)["pipelineExecutionSummaries"]
        assert [(s["trigger"]["triggerType"], s["status"]) for s in summaries] == [
            ("CloudWatchEvent", "Succeeded"), ("CloudWatchEvent", "Succeeded"), ("CreatePipeline", "Succeeded")], \
            "the rerun started a pipeline"
    for svc in SERVICES:
        assert traffic(cloud, made, svc) == {"production": ["%s-tg-one" % svc], "test": ["%s-tg-one" % svc]}
