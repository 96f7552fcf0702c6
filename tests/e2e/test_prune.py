"""A service removed from the list, on the local cloud: what the lab made for it is its to remove, on request.

One lab for the module, in this order: site.yml with a third service, supplier (an archive, path /supplier/*);
site.yml again without it: refused by the plan, naming it and both ways on, nothing changed; with
-e cloudlab_prune=true in check mode: predicted, nothing changed; then for real: what the lab made for supplier is
gone but its ECR repository; destroy.yml with customer's deployment held in progress: refused, naming it, nothing
deleted, predicted in check mode with -e destroy_stop_deployments=true; for real with it and the list of two: the deployment stopped, nothing the lab owns is
left, supplier's repository included.
"""
import os
import shutil
import time

import pytest

from examples import build

from helpers import ROOT, failure_messages, git, run_playbook
from helpers.phase5 import clone_url, phase5_vars, snapshot

pytestmark = pytest.mark.slow

SITE = "playbooks/site.yml"
LISTED = [{"name": "customer"},
          {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-prune")


@pytest.fixture(scope="module")
def supplier(archives, workdir):
    """The third service's entry: the sample employee's files as supplier, an OCI archive of its own."""
    out = str(workdir / "supplier.oci.tar")
    build.build_archive("supplier", out, service_dir=os.path.join(ROOT, "examples", "employee"),
                        busybox=shutil.which("busybox"))
    return {"name": "supplier", "archive": out, "path_pattern": "/supplier/*", "health_check_path": "/admin/suppliers"}


@pytest.fixture(scope="module")
def three(lab, archives, workdir, supplier):
    """The lab converged by site.yml with customer, employee and supplier."""
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=LISTED + [supplier]))
    assert result.rc == 0, failure_messages(result)
    for svc in ("customer", "employee", "supplier"):
        first_execution_ended(lab, "update-%s-microservice" % svc)
    return result


def first_execution_ended(cloud, pipeline, timeout=120):
    """Wait until the pipeline's first execution (CreatePipeline's, which deploys) has ended (polled)."""
    client = cloud.client("codepipeline")
    deadline = time.time() + timeout
    while time.time() < deadline:
        summaries = client.list_pipeline_executions(pipelineName=pipeline)["pipelineExecutionSummaries"]
        if summaries and summaries[0]["status"] != "InProgress":
            return
        time.sleep(0.2)
    raise AssertionError("pipeline %s: its first execution did not end in %ss" % (pipeline, timeout))


def test_a_service_that_left_the_list_is_refused_by_name_with_both_ways_on_and_nothing_changes(
        lab, three, archives, workdir):
    before = snapshot(lab)
    groups = sorted(g["TargetGroupName"] for g in lab.client("elbv2").describe_target_groups()["TargetGroups"])
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=LISTED))
    assert result.rc != 0
    message = failure_messages(result)
    assert "supplier" in message and "no longer in microservices" in message, message
    assert "back in microservices" in message and "-e cloudlab_prune=true" in message, message
    assert result.stats()["localhost"]["changed"] == 0
    assert not [p for p in result.data()["plays"] if p["play"]["name"].startswith("Phase")], "a phase ran"
    assert snapshot(lab) == before
    assert sorted(g["TargetGroupName"] for g in lab.client("elbv2").describe_target_groups()["TargetGroups"]) == groups


def test_a_service_whose_target_groups_say_nothing_is_named_by_its_ecs_service_pipeline_and_group(
        lab, three, archives, workdir):
    """Its target groups' service tag removed by hand: the lab still names supplier, from what else it owns."""
    elb = lab.client("elbv2")
    arns = [g["TargetGroupArn"] for g in elb.describe_target_groups()["TargetGroups"]
            if g["TargetGroupName"].startswith("supplier-")]
    elb.remove_tags(ResourceArns=arns, TagKeys=["cloudlab:service"])
    try:
        before = snapshot(lab)
        result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=LISTED))
        assert result.rc != 0
        message = failure_messages(result)
        assert "supplier" in message and "no longer in microservices" in message, message
        assert snapshot(lab) == before
    finally:
        elb.add_tags(ResourceArns=arns, Tags=[{"Key": "cloudlab:service", "Value": "supplier"}])


def supplier_left(cloud, workdir):
    """What the lab made for supplier that is still there, by kind (empty lists when gone)."""
    elb, ecs = cloud.client("elbv2"), cloud.client("ecs")
    groups = [g["TargetGroupName"] for g in elb.describe_target_groups()["TargetGroups"]
              if g["TargetGroupName"].startswith("supplier-")]
    listener_arns = [ls["ListenerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]
                     for ls in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]]
    rules = [c.get("Values") or c["PathPatternConfig"]["Values"] for arn in listener_arns for r in elb.describe_rules(ListenerArn=arn)["Rules"]
             for c in r.get("Conditions") or [] if "/supplier/*" in (c.get("Values") or [])
             or "/supplier/*" in ((c.get("PathPatternConfig") or {}).get("Values") or [])]
    services = [s["serviceName"] for cluster in ecs.list_clusters()["clusterArns"]
                for s in (ecs.describe_services(cluster=cluster, services=["supplier-microservice"])["services"])
                if s.get("status") != "INACTIVE"]
    pipelines = [p["name"] for p in cloud.client("codepipeline").list_pipelines()["pipelines"]
                 if p["name"] == "update-supplier-microservice"]
    event_rules = [r["Name"] for r in cloud.client("events").list_rules(NamePrefix="update-supplier-")["Rules"]]
    groups_cd = [g for g in cloud.client("codedeploy").list_deployment_groups(
        applicationName="microservices")["deploymentGroups"] if g == "microservices-supplier"]
    dest = os.path.join(str(workdir), "clone-%d" % len(os.listdir(str(workdir))))
    git("clone", "--quiet", "--branch", "dev", clone_url(cloud), dest)
    files = sorted(f for f in os.listdir(dest) if "supplier" in f)
    repos = [r["repositoryName"] for r in cloud.client("ecr").describe_repositories()["repositories"]
             if r["repositoryName"] == "supplier"]
    return dict(pipelines=pipelines, event_rules=event_rules, deployment_groups=groups_cd, ecs_services=services,
                listener_rules=rules, target_groups=sorted(groups), files=files, ecr=repos)


def test_prune_in_check_mode_predicts_and_changes_nothing(lab, three, archives, workdir):
    before, left = snapshot(lab), supplier_left(lab, workdir)
    assert all(left.values()), left
    check = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=LISTED,
                                                           cloudlab_prune=True), check=True, diff=True)
    assert check.rc == 0, failure_messages(check)
    pruned = [p for p in check.data()["plays"] if p["play"]["name"].startswith("Prune")]
    changed = [t["task"]["name"] for t in pruned[0]["tasks"] if t["hosts"]["localhost"].get("changed")]
    for what in ("pipelines", "deployment groups", "ECS services", "target groups", "files on dev"):
        assert [n for n in changed if what in n], (what, changed)
    assert snapshot(lab) == before
    assert supplier_left(lab, workdir) == left


def test_prune_removes_what_the_lab_made_for_the_service_but_its_ecr_repository(lab, three, archives, workdir):
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=LISTED,
                                                            cloudlab_prune=True))
    assert result.rc == 0, failure_messages(result)
    assert supplier_left(lab, workdir) == dict(pipelines=[], event_rules=[], deployment_groups=[], ecs_services=[],
                                               listener_rules=[], target_groups=[], files=[], ecr=["supplier"])
    (said,) = [t["hosts"]["localhost"]["msg"] for p in result.data()["plays"] for t in p["tasks"]
               if t["task"]["name"] == "Say what was pruned and what stays"]
    assert said[0] == "Pruned, what the lab made for: supplier", said
    assert said[1].endswith("-e cloudlab_prune_images=true removes them): supplier"), said
    # The listed services are untouched and a rerun without the flag is no longer refused.
    rerun = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=LISTED))
    assert rerun.rc == 0, failure_messages(rerun)
    assert rerun.stats()["localhost"]["changed"] == 0


HELD = []  # the deployment the refusal test holds in progress, for the destroy test to find stopped


def test_destroy_refuses_a_deployment_in_progress_by_name_and_deletes_nothing(lab, three, archives, workdir):
    """customer's deployment held in progress (a canary of two AWS days): destroy.yml names it and stops."""
    ecs, codedeploy = lab.client("ecs"), lab.client("codedeploy")
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    current = [s for c in clusters if c["status"] == "ACTIVE"
               for s in ecs.describe_services(cluster=c["clusterArn"], services=["customer-microservice"])["services"]
               if s.get("status") == "ACTIVE"][0]
    taskdef = [t for t in current["taskSets"] if t["status"] == "PRIMARY"][0]["taskDefinition"]
    codedeploy.create_deployment_config(deploymentConfigName="HoldCanary", computePlatform="ECS", trafficRoutingConfig={
        "type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 2880}})
    appspec = ("version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n"
               "        TaskDefinition: %s\n        LoadBalancerInfo:\n          ContainerName: customer\n"
               "          ContainerPort: 8080\n" % taskdef)
    HELD.append(codedeploy.create_deployment(
        applicationName="microservices", deploymentGroupName="microservices-customer", deploymentConfigName="HoldCanary",
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}})["deploymentId"])
    before = snapshot(lab)
    result = run_playbook(lab, "playbooks/destroy.yml",
                          extra_vars=phase5_vars(workdir, archives, microservices=LISTED, confirm=True))
    assert result.rc != 0
    message = failure_messages(result)
    assert HELD[0] in message and "microservices-customer" in message, message
    assert "-e destroy_stop_deployments=true" in message, message
    assert result.stats()["localhost"]["changed"] == 0
    assert snapshot(lab) == before
    # Check mode with the flag predicts the stop, and stops nothing.
    check = run_playbook(lab, "playbooks/destroy.yml", tags=["phase8"], check=True, extra_vars=phase5_vars(
        workdir, archives, microservices=LISTED, confirm=True, destroy_stop_deployments=True))
    assert check.rc == 0, failure_messages(check)
    first = [t["hosts"]["localhost"] for p in check.data()["plays"] for t in p["tasks"]
             if "refuse or stop the deployments" in t["task"]["name"]][0]
    assert first["changed"] and [d["id"] for d in first["stopped_deployments"]] == HELD, first
    assert snapshot(lab) == before
    assert codedeploy.get_deployment(deploymentId=HELD[0])["deploymentInfo"]["status"] not in (
        "Succeeded", "Failed", "Stopped")


def test_destroy_after_a_removal_leaves_nothing_the_lab_owns(lab, three, archives, workdir):
    result = run_playbook(lab, "playbooks/destroy.yml",
                          extra_vars=phase5_vars(workdir, archives, microservices=LISTED, confirm=True,
                                                 destroy_stop_deployments=True))
    assert result.rc == 0, failure_messages(result)
    for deployment_id in HELD:  # stopped with a rollback before the application went
        assert lab.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"] \
            == "Stopped"
    left = snapshot(lab)
    assert left["ecr"] == [] and left["stacks"] == [] and left["codecommit"] == [], left
    elb = lab.client("elbv2")
    assert elb.describe_target_groups()["TargetGroups"] == []
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    assert lab.client("codepipeline").list_pipelines()["pipelines"] == []
    assert lab.client("codedeploy").list_applications()["applications"] == []
    # As on AWS, a deleted cluster and its deleted services are still listed, INACTIVE.
    ecs = lab.client("ecs")
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    assert [c["clusterName"] for c in clusters if c["status"] != "INACTIVE"] == []
    services = [s for c in clusters for s in ecs.describe_services(
        cluster=c["clusterArn"], services=ecs.list_services(cluster=c["clusterArn"])["serviceArns"] or ["none"])[
        "services"] if s.get("status") != "INACTIVE"]
    assert services == []
