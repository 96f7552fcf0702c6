"""Module fargate_cluster_plan where the local cloud cannot go: answers stubbed with botocore's Stubber
(the `stubs` fixture).

The local cloud covers the usual paths (tests/integration/cluster); here:
AWS's own shapes (an INACTIVE cluster that DescribeClusters still lists,
list parameters echoed as "a,b", a JSON template handed back parsed),
throttling on both services, and a rolled-back stack's events.
"""
import json
import os

from helpers import ROOT, run_aws_module

from ansible_collections.cloudlab.microservices.plugins.modules import fargate_cluster_plan as plan_module

REGION = "us-east-1"
ACCOUNT = "123456789012"
R = "microservices-serverlesscluster"
C = R + "-c"
STACK_R = "Infra-ECS-Cluster-" + R
STACK_C = STACK_R + "-c"
TEMPLATE_TEXT = open(os.path.join(ROOT, "roles", "fargate_cluster", "files", "fargate-cluster.cfn.yml")).read()
ARGS = {"template_body": TEMPLATE_TEXT, "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]}
NO_STACK = dict(service_error_code="ValidationError", http_status_code=400)


def run_module(args, capsys):
    return run_aws_module(plan_module.main, dict(ARGS, **args), capsys, region=REGION)


def cluster(name, status):
    return {"clusterName": name, "status": status,
            "clusterArn": "arn:aws:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT, name)}


def describe_clusters(stubs, *found):
    stubs["ecs"].add_response("describe_clusters", {"clusters": list(found), "failures": []},
                              {"clusters": [R, C]})


def no_stack(stubs, name):
    stubs["cloudformation"].add_client_error(
        "describe_stacks", service_message="Stack with id %s does not exist" % name,
        expected_params={"StackName": name}, **NO_STACK)


def stack(name, status, cluster_name, subnets="subnet-0123456789abcdef0,subnet-0123456789abcdef1"):
    return {"StackName": name, "StackId": "arn:aws:cloudformation:%s:%s:stack/%s/1" % (REGION, ACCOUNT, name),
            "StackStatus": status, "CreationTime": "2026-11-27T10:00:00Z",
            "Parameters": [
                {"ParameterKey": "ECSClusterName", "ParameterValue": cluster_name},
                {"ParameterKey": "VpcId", "ParameterValue": "vpc-0123456789abcdef0"},
                {"ParameterKey": "SubnetIds", "ParameterValue": subnets},
                {"ParameterKey": "SecurityGroupIds", "ParameterValue": ""},
                {"ParameterKey": "ContainerInsights", "ParameterValue": "enabled"},
                {"ParameterKey": "ServiceConnectNamespace", "ParameterValue": ""}],
            "Outputs": [{"OutputKey": "ClusterArn",
                         "OutputValue": "arn:aws:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT, cluster_name)}],
            "Tags": []}


def found_stack(stubs, name, status, cluster_name, **kw):
    stubs["cloudformation"].add_response("describe_stacks", {"Stacks": [stack(name, status, cluster_name, **kw)]},
                                         {"StackName": name})


def resources(stubs, name, cluster_name):
    stubs["cloudformation"].add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": "ECSCluster", "PhysicalResourceId": cluster_name, "ResourceType": "AWS::ECS::Cluster",
         "LastUpdatedTimestamp": "2026-11-27T10:00:00Z", "ResourceStatus": "CREATE_COMPLETE"}]},
        {"StackName": name})


def test_an_inactive_cluster_leaves_the_name_free(stubs, capsys):
    # AWS lists a cluster deleted moments ago as INACTIVE: it holds no name.
    describe_clusters(stubs, cluster(R, "INACTIVE"))
    no_stack(stubs, STACK_R)
    no_stack(stubs, STACK_C)
    out = run_module({}, capsys)
    assert out["cluster_name"] == R and out["stack_name"] == STACK_R
    assert out["action"] == "create" and out["deploy"] is True
    assert out["cluster_status"] == "INACTIVE"
    assert not out.get("warnings")
    assert out["changed"] is False


def test_an_active_cluster_of_another_stack_gives_c_with_a_warning(stubs, capsys):
    describe_clusters(stubs, cluster(R, "ACTIVE"))
    no_stack(stubs, STACK_R)
    no_stack(stubs, STACK_C)
    out = run_module({}, capsys)
    assert out["cluster_name"] == C and out["stack_name"] == STACK_C
    assert out["parameters"]["ECSClusterName"] == C
    assert "using %s instead" % C in json.dumps(out["warnings"])


def test_our_own_active_cluster_in_sync_needs_nothing(stubs, capsys):
    # Throttling is ridden out by botocore's retry handler, which a Stubber skips: see tests/integration/retry.
    describe_clusters(stubs, cluster(R, "ACTIVE"))
    found_stack(stubs, STACK_R, "CREATE_COMPLETE", R)
    resources(stubs, STACK_R, R)
    no_stack(stubs, STACK_C)
    # A JSON template comes back parsed; it is the same template.
    import yaml
    stubs["cloudformation"].add_response("get_template", {"TemplateBody": json.dumps(yaml.safe_load(TEMPLATE_TEXT))},
                                         {"StackName": STACK_R, "TemplateStage": "Original"})
    out = run_module({}, capsys)
    assert out["cluster_name"] == R
    assert out["action"] == "none" and out["deploy"] is False, out["differences"]
    assert out["cluster_arn"].endswith(":cluster/" + R)


def test_a_changed_subnet_is_an_update_with_a_diff(stubs, capsys):
    describe_clusters(stubs, cluster(R, "ACTIVE"))
    found_stack(stubs, STACK_R, "UPDATE_COMPLETE", R, subnets="subnet-0123456789abcdef0")
    resources(stubs, STACK_R, R)
    no_stack(stubs, STACK_C)
    stubs["cloudformation"].add_response("get_template", {"TemplateBody": TEMPLATE_TEXT},
                                         {"StackName": STACK_R, "TemplateStage": "Original"})
    out = run_module({"_ansible_diff": True}, capsys)
    assert out["action"] == "update"
    assert out["differences"] == ['parameter SubnetIds: ["subnet-0123456789abcdef0"] -> '
                                  '["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]']
    assert out["diff"]["after"]["parameters"]["SubnetIds"] == ARGS["subnet_ids"]


def test_a_rolled_back_stack_is_recreated_and_its_events_read(stubs, capsys):
    describe_clusters(stubs, cluster(R, "INACTIVE"))
    found_stack(stubs, STACK_R, "ROLLBACK_COMPLETE", R)
    stubs["cloudformation"].add_response("list_stack_resources", {"StackResourceSummaries": []},
                                         {"StackName": STACK_R})
    no_stack(stubs, STACK_C)
    stubs["cloudformation"].add_response("describe_stack_events", {"StackEvents": [
        {"StackId": "x", "EventId": "2", "StackName": STACK_R, "LogicalResourceId": STACK_R,
         "ResourceType": "AWS::CloudFormation::Stack", "ResourceStatus": "ROLLBACK_COMPLETE",
         "Timestamp": "2026-11-27T10:05:00Z"},
        {"StackId": "x", "EventId": "1", "StackName": STACK_R, "LogicalResourceId": "ECSCluster",
         "ResourceType": "AWS::ECS::Cluster", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Namespace already exists", "Timestamp": "2026-11-27T10:04:00Z"}]},
        {"StackName": STACK_R})
    out = run_module({}, capsys)
    assert out["cluster_name"] == R
    assert out["action"] == "recreate" and out["deploy"] is True
    assert out["failed_events"] == ["AWS::ECS::Cluster ECSCluster CREATE_FAILED: Namespace already exists"]


def test_a_reported_failure_fails_with_the_events(stubs, capsys):
    stubs["ecs"].add_response("describe_clusters", {"clusters": [], "failures": []}, {"clusters": [R]})
    found_stack(stubs, STACK_R, "ROLLBACK_COMPLETE", R)
    stubs["cloudformation"].add_response("describe_stack_events", {"StackEvents": [
        {"StackId": "x", "EventId": "1", "StackName": STACK_R, "LogicalResourceId": "ECSCluster",
         "ResourceType": "AWS::ECS::Cluster", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Invalid request", "Timestamp": "2026-11-27T10:04:00Z"}]},
        {"StackName": STACK_R})
    out = run_module({"cluster_name": R, "retried": True,
                      "failure": "Failed to create stack %s: Problem with CREATE. Rollback complete" % STACK_R}, capsys)
    assert out["failed"] is True
    assert out["msg"].startswith("Failed to create stack %s (cluster %s) after deleting it and trying once more: "
                                 "Problem with CREATE. Rollback complete. Failed events: AWS::ECS::Cluster "
                                 "ECSCluster CREATE_FAILED: Invalid request." % (STACK_R, R))
    assert "fargate_cluster_subnet_ids" in out["msg"]


def test_both_names_held_fails_before_any_change(stubs, capsys):
    describe_clusters(stubs, cluster(R, "ACTIVE"), cluster(C, "ACTIVE"))
    no_stack(stubs, STACK_R)
    no_stack(stubs, STACK_C)
    out = run_module({}, capsys)
    assert out["failed"] is True
    assert out["msg"].startswith("Failed to choose a cluster name")
