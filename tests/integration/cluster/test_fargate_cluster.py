"""Role fargate_cluster against the local cloud: the lab's Task 5.2.

moto's handler for AWS::ECS::Cluster keeps only the cluster's name: it drops
CapacityProviders, DefaultCapacityProviderStrategy and ClusterSettings, so
DescribeClusters cannot show them. The Fargate-only shape is asserted on the
deployed template and on the stack's parameters instead.
"""
import json
import os
import shutil
import subprocess

import pytest
import yaml

from localcloud.testing import require_binary

from helpers import BIN, ROOT, changed_count as changed, run_playbook

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

HERE = os.path.dirname(os.path.abspath(__file__))
PLAY = os.path.join(HERE, "cluster.yml")
TEMPLATE = os.path.join(ROOT, "roles", "fargate_cluster", "files", "fargate-cluster.cfn.yml")
FAILING_TEMPLATE = os.path.join(HERE, "files", "fails-to-create.cfn.yml")
NAME = "microservices-serverlesscluster"
STACK = "Infra-ECS-Cluster-" + NAME
PUBLISH_TASK = "Publish the cluster's name and ARN and the stack's outputs"
PLAN_TASK = "Choose the cluster's name (the lab's \"-c\" rule) and compare its stack with the template"


@pytest.fixture
def network(cloud):
    """A VPC with two subnets, standing in for LabVPC and its public subnets."""
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.%d.0/24" % i)["Subnet"]["SubnetId"]
               for i in (1, 2)]
    return {"fargate_cluster_vpc_id": vpc, "fargate_cluster_subnet_ids": subnets}


def run(cloud, network, **kwargs):
    extra = dict(network, **kwargs.pop("extra", {}))
    return run_playbook(cloud, PLAY, extra_vars=extra, **kwargs)


def published(result):
    """Facts the role leaves, from the JSON callback: its publish task's last run (the role publishes the
    cluster as found, then again after a deploy)."""
    doc = json.loads(result.stdout[result.stdout.index("{"):])
    found = [task["hosts"]["localhost"]["ansible_facts"] for play in doc["plays"] for task in play["tasks"]
             if task["task"]["name"].endswith(" : " + PUBLISH_TASK)
             and "ansible_facts" in task["hosts"].get("localhost", {})]
    if not found:
        raise AssertionError("publish task did not run:\n%s" % result.output[-4000:])
    return found[-1]


def plan_result(result):
    """What the role's plan module answered, from the JSON callback."""
    doc = json.loads(result.stdout[result.stdout.index("{"):])
    for play in doc["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].endswith(" : " + PLAN_TASK):
                return task["hosts"]["localhost"]
    raise AssertionError("plan task did not run:\n%s" % result.output[-4000:])


def stacks_named(cloud, name):
    summaries = cloud.client("cloudformation").list_stacks()["StackSummaries"]
    return [s for s in summaries if s["StackName"] == name]


def test_create_publishes_cluster_and_network(cloud, network):
    result = run(cloud, network, extra={"fargate_cluster_tags": {"Project": "capstone"}})
    assert result.rc == 0, result
    assert changed(result) > 0

    cfn = cloud.client("cloudformation")
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["VpcId"] == network["fargate_cluster_vpc_id"]
    assert outputs["SubnetIds"].split(",") == network["fargate_cluster_subnet_ids"]
    # The user's tags, and the ownership tags of the lab (the model's).
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == dict(_lab.owner_tags(_lab.APPLICATION), Project="capstone")

    cluster = cloud.client("ecs").describe_clusters(clusters=[NAME])["clusters"][0]
    assert cluster["status"] == "ACTIVE"

    facts = published(result)
    assert facts["fargate_cluster_name"] == NAME
    assert facts["fargate_cluster_arn"] == cluster["clusterArn"]
    assert facts["fargate_cluster_stack_name"] == STACK
    assert facts["fargate_cluster_stack_status"] == "CREATE_COMPLETE"
    assert facts["fargate_cluster_stack_outputs"] == outputs

    # Fargate only, Container Insights, ECS Exec logging: on the template and
    # the parameters, since moto's DescribeClusters cannot show them.
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["ContainerInsights"] == "enabled"
    assert params["ServiceConnectNamespace"] == ""
    # The template uses long-form intrinsics only, so plain YAML reads it.
    deployed = yaml.safe_load(cfn.get_template(StackName=STACK)["TemplateBody"])
    props = deployed["Resources"]["ECSCluster"]["Properties"]
    assert props["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert props["DefaultCapacityProviderStrategy"][0]["CapacityProvider"] == "FARGATE"
    assert props["ClusterSettings"][0]["Name"] == "containerInsights"
    assert props["Configuration"]["ExecuteCommandConfiguration"]["Logging"] == "DEFAULT"


def test_second_run_changes_nothing_and_does_not_update(cloud, network):
    assert run(cloud, network).rc == 0
    cfn = cloud.client("cloudformation")
    events_before = cfn.describe_stack_events(StackName=STACK)["StackEvents"]

    for check in (True, False):
        again = run(cloud, network, check=check)
        assert again.rc == 0, again
        assert changed(again) == 0, again
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert "LastUpdatedTime" not in stack
    assert cfn.describe_stack_events(StackName=STACK)["StackEvents"] == events_before


def test_check_mode_on_fresh_cloud_creates_nothing(cloud, network):
    result = run(cloud, network, check=True)
    assert result.rc == 0, result
    assert changed(result) > 0  # predicts the creation
    assert cloud.client("cloudformation").list_stacks()["StackSummaries"] == []
    assert cloud.client("ecs").list_clusters()["clusterArns"] == []
    assert published(result)["fargate_cluster_name"] == NAME


def test_diff_then_update_of_a_parameter(cloud, network):
    assert run(cloud, network).rc == 0
    cfn = cloud.client("cloudformation")
    extra = {"fargate_cluster_container_insights": "disabled"}

    preview = run(cloud, network, extra=extra, check=True, diff=True)
    assert preview.rc == 0, preview
    assert changed(preview) > 0
    diff = plan_result(preview)["diff"]
    assert diff["before"]["parameters"]["ContainerInsights"] == "enabled"
    assert diff["after"]["parameters"]["ContainerInsights"] == "disabled"
    assert plan_result(preview)["differences"] == ['parameter ContainerInsights: "enabled" -> "disabled"']
    params = {p["ParameterKey"]: p["ParameterValue"]
              for p in cfn.describe_stacks(StackName=STACK)["Stacks"][0]["Parameters"]}
    assert params["ContainerInsights"] == "enabled"

    applied = run(cloud, network, extra=extra)
    assert applied.rc == 0, applied
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["ContainerInsights"] == "disabled"
    assert changed(run(cloud, network, extra=extra)) == 0


def test_name_taken_by_a_foreign_cluster_gives_c(cloud, network):
    ecs = cloud.client("ecs")
    foreign = ecs.create_cluster(clusterName=NAME)["cluster"]["clusterArn"]

    result = run(cloud, network)
    assert result.rc == 0, result
    warnings = json.dumps(plan_result(result).get("warnings", []))
    assert "held by a cluster that stack %s does not own (status ACTIVE): using %s-c instead" % (STACK, NAME) in warnings
    facts = published(result)
    assert facts["fargate_cluster_name"] == NAME + "-c"
    assert facts["fargate_cluster_stack_name"] == STACK + "-c"
    assert facts["fargate_cluster_arn"].endswith(":cluster/%s-c" % NAME)
    assert stacks_named(cloud, STACK) == []
    clusters = ecs.describe_clusters(clusters=[NAME, NAME + "-c"])["clusters"]
    assert {c["clusterName"]: c["status"] for c in clusters} == {NAME: "ACTIVE", NAME + "-c": "ACTIVE"}
    assert clusters[0]["clusterArn"] == foreign

    again = run(cloud, network)
    assert again.rc == 0, again
    assert changed(again) == 0
    assert published(again)["fargate_cluster_name"] == NAME + "-c"


def test_an_inactive_cluster_does_not_hold_the_name(cloud, network):
    # A cluster deleted moments ago stays listed as INACTIVE for a while (AWS and moto alike).
    ecs = cloud.client("ecs")
    ecs.create_cluster(clusterName=NAME)
    ecs.delete_cluster(cluster=NAME)
    assert ecs.describe_clusters(clusters=[NAME])["clusters"][0]["status"] == "INACTIVE"

    result = run(cloud, network)
    assert result.rc == 0, result
    assert published(result)["fargate_cluster_name"] == NAME
    assert not plan_result(result).get("warnings")
    assert ecs.describe_clusters(clusters=[NAME])["clusters"][0]["status"] == "ACTIVE"


def test_after_deleting_its_stack_a_rerun_gets_the_name_back(cloud, network):
    assert published(run(cloud, network))["fargate_cluster_name"] == NAME
    cfn = cloud.client("cloudformation")
    cfn.delete_stack(StackName=STACK)
    # The local cloud deletes the stack's cluster as CloudFormation does.
    assert cloud.client("ecs").describe_clusters(clusters=[NAME])["clusters"][0]["status"] == "INACTIVE"

    again = run(cloud, network)
    assert again.rc == 0, again
    assert published(again)["fargate_cluster_name"] == NAME
    assert stacks_named(cloud, STACK + "-c") == []
    assert cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_the_c_cluster_is_kept_when_the_name_frees_up(cloud, network):
    ecs = cloud.client("ecs")
    ecs.create_cluster(clusterName=NAME)
    assert published(run(cloud, network))["fargate_cluster_name"] == NAME + "-c"
    ecs.delete_cluster(cluster=NAME)

    again = run(cloud, network)
    assert again.rc == 0, again
    assert changed(again) == 0
    assert published(again)["fargate_cluster_name"] == NAME + "-c"
    warnings = json.dumps(plan_result(again).get("warnings", []))
    assert "%s is free again" % NAME in warnings and "phase5_destroy.yml" in warnings
    assert stacks_named(cloud, STACK) == []


def test_both_names_taken_is_refused_before_any_change(cloud, network):
    ecs = cloud.client("ecs")
    ecs.create_cluster(clusterName=NAME)
    ecs.create_cluster(clusterName=NAME + "-c")

    result = run(cloud, network)
    assert result.rc != 0
    assert "Failed to choose a cluster name" in result.stdout
    assert "fargate_cluster_requested_name" in result.stdout
    assert cloud.client("cloudformation").list_stacks()["StackSummaries"] == []


@pytest.mark.parametrize("extra, variable", [
    ({"fargate_cluster_vpc_id": "LabVPC"}, "fargate_cluster_vpc_id"),
    ({"fargate_cluster_subnet_ids": []}, "fargate_cluster_subnet_ids"),
    ({"fargate_cluster_requested_name": "bad name"}, "fargate_cluster_requested_name"),
    ({"fargate_cluster_stack_name": "1-starts-with-a-digit"}, "fargate_cluster_stack_name"),
])
def test_bad_input_is_refused_before_any_change(cloud, network, extra, variable):
    result = run(cloud, network, extra=extra)
    assert result.rc != 0
    assert "Failed to validate the fargate_cluster role's inputs: %s is" % variable in result.stdout
    assert cloud.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_failed_create_is_deleted_retried_then_reported(cloud, network):
    result = run(cloud, network, extra={"fargate_cluster_template_path": FAILING_TEMPLATE})
    assert result.rc != 0
    assert result.stats()["localhost"]["rescued"] >= 1
    assert "Failed to create stack %s" % STACK in result.stdout
    assert "after deleting it and trying once more" in result.stdout
    assert "Latest stack events: AWS::CloudFormation::Stack %s CREATE_IN_PROGRESS" % STACK in result.stdout
    # Two attempts under the same name: the first was deleted before the retry.
    attempts = stacks_named(cloud, STACK)
    assert len(attempts) == 2
    assert sorted(s["StackStatus"] for s in attempts)[0] == "CREATE_IN_PROGRESS"
    assert sorted(s["StackStatus"] for s in attempts)[1] == "DELETE_COMPLETE"


def cfn_lint(path):
    return subprocess.run([os.path.join(BIN, "cfn-lint"), path], capture_output=True, text=True,
                          check=False)


def test_template_passes_cfn_lint(tmp_path):
    if not os.path.exists(os.path.join(BIN, "cfn-lint")):
        require_binary("cfn-lint")
    good = cfn_lint(TEMPLATE)
    assert good.returncode == 0, good.stdout + good.stderr

    broken = tmp_path / "broken.cfn.yml"
    shutil.copy(TEMPLATE, broken)
    text = broken.read_text().replace("Ref: ECSClusterName", "Ref: NoSuchParameter")
    assert "NoSuchParameter" in text
    broken.write_text(text)
    bad = cfn_lint(str(broken))
    assert bad.returncode != 0
    assert "NoSuchParameter" in bad.stdout
