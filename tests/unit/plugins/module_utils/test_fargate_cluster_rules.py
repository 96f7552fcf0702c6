"""The Fargate cluster's rules (module_utils/_cluster.py) and the role's input check (_checks/fargate_cluster.py)."""
import os

import pytest

from helpers import ROOT

from ansible_collections.cloudlab.microservices.plugins.module_utils import _cluster as rules
from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import fargate_cluster as checks
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

R = "microservices-serverlesscluster"
C = R + "-c"
STACK_R = "Infra-ECS-Cluster-" + R
STACK_C = STACK_R + "-c"
TEMPLATE = os.path.join(ROOT, "roles", "fargate_cluster", "files", "fargate-cluster.cfn.yml")


def owned(*names):
    return {"status": "CREATE_COMPLETE", "clusters": list(names)}


@pytest.mark.parametrize("clusters, stacks, expected", [
    # nothing yet: the lab's name
    ({}, {}, R),
    # a cluster deleted moments ago (INACTIVE) holds no name
    ({R: "INACTIVE"}, {}, R),
    # after our own teardown on AWS: stack gone, cluster INACTIVE
    ({R: "INACTIVE", C: "INACTIVE"}, {}, R),
    ({R: "DEPROVISIONING"}, {}, R),
    # our own stack's cluster is ours, not taken
    ({R: "ACTIVE"}, {STACK_R: owned(R)}, R),
    # another stack's (or a hand-made) ACTIVE cluster holds the name: -c
    ({R: "ACTIVE"}, {}, C),
    ({R: "PROVISIONING"}, {}, C),
    ({R: "ACTIVE"}, {"Infra-ECS-Cluster-other": owned(R)}, C),
    # our stack exists for R but does not own this cluster (it failed, someone else made R)
    ({R: "ACTIVE"}, {STACK_R: owned()}, C),
    # the -c cluster this role made earlier is kept while R is still taken
    ({R: "ACTIVE", C: "ACTIVE"}, {STACK_C: owned(C)}, C),
    # ... and when R frees up (stability: later phases use it)
    ({R: "INACTIVE", C: "ACTIVE"}, {STACK_C: owned(C)}, C),
    # but not once its -c stack is gone
    ({R: "INACTIVE", C: "INACTIVE"}, {}, R),
])
def test_choose_name(clusters, stacks, expected):
    name, note = rules.choose_name(R, "", clusters, stacks)
    assert name == expected
    assert bool(note) == (expected != R)


def test_the_c_note_says_why_and_what_to_do():
    name, note = rules.choose_name(R, "", {R: "ACTIVE"}, {})
    assert name == C
    assert "held by a cluster that stack %s does not own (status ACTIVE): using %s instead" % (STACK_R, C) in note
    assert "fargate_cluster_name" in note and "fargate_cluster_requested_name" in note


def test_both_names_taken_is_refused_with_the_variable_to_set():
    name, why = rules.choose_name(R, "", {R: "ACTIVE", C: "ACTIVE"}, {})
    assert name is None
    assert why.startswith("Failed to choose a cluster name: %s and %s" % (R, C))
    assert "set fargate_cluster_requested_name" in why


def test_a_fixed_stack_name_owns_either_name():
    assert _lab.stack(R, "my-stack") == "my-stack"
    name, _note = rules.choose_name(R, "my-stack", {R: "ACTIVE"}, {"my-stack": owned(R)})
    assert name == R


def test_stack_names_follow_the_console_with_hyphens():
    assert _lab.stack("a_b") == "Infra-ECS-Cluster-a-b"
    assert rules.cluster_short_name("arn:aws:ecs:us-east-1:123456789012:cluster/x") == "x"
    assert rules.cluster_short_name("x") == "x"


@pytest.mark.parametrize("name, stack_name, ok", [
    (R, "", True),
    ("a" * 108, "", True),
    ("a" * 109, "", False),  # Infra-ECS-Cluster-<name>-c would pass 128
    ("a" * 253, "s", True),
    ("a" * 254, "s", False),
    ("bad name", "", False),
    ("", "", False),
    ("dots.no", "", False),
])
def test_requested_name_rule(name, stack_name, ok):
    problem = rules.requested_name_problem(name, stack_name)
    assert (problem == "") == ok
    if not ok:
        assert problem.startswith("fargate_cluster_requested_name is ")


def test_list_parameters_compare_whatever_the_echo():
    template = rules.parse_template(open(TEMPLATE).read())
    aws = rules.normalise_parameters({"SubnetIds": "subnet-1,subnet-2", "VpcId": "vpc-1"}, template)
    moto = rules.normalise_parameters({"SubnetIds": "['subnet-1', 'subnet-2']", "VpcId": "vpc-1"}, template)
    assert aws == moto == {"SubnetIds": ["subnet-1", "subnet-2"], "VpcId": "vpc-1"}
    assert rules.normalise_parameters({"SecurityGroupIds": ""}, template) == {"SecurityGroupIds": []}


def desired(**over):
    template = rules.parse_template(open(TEMPLATE).read())
    params = rules.desired_parameters(R, "vpc-1", ["subnet-1", "subnet-2"], [], "enabled", False, "")
    out = {"template": template, "parameters": rules.normalise_parameters(params, template), "tags": {}}
    out.update(over)
    return out


def test_plan_in_sync_update_create_recreate_wait():
    assert rules.plan_stack("", None, desired())[0] == "create"
    assert rules.plan_stack("CREATE_COMPLETE", desired(), desired())[0] == "none"
    # A JSON echo of the same template is the same template.
    import json
    same = desired(template=rules.parse_template(json.dumps(desired()["template"])))
    assert rules.plan_stack("UPDATE_COMPLETE", same, desired())[0] == "none"
    current = desired(parameters=dict(desired()["parameters"], ContainerInsights="disabled"), tags={"a": "1"})
    action, reason, diffs = rules.plan_stack("CREATE_COMPLETE", current, desired())
    assert action == "update"
    assert diffs == ['parameter ContainerInsights: "disabled" -> "enabled"', 'tags: {"a": "1"} -> {}']
    assert "differs" in reason
    changed_template = desired(template=dict(desired()["template"], Description="other"))
    assert rules.plan_stack("CREATE_COMPLETE", changed_template, desired())[2] == ["template: Description differ"]
    for dead in rules.DEAD_STATUSES:
        assert rules.plan_stack(dead, None, desired())[0] == "recreate"
    for busy in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_FAILED"):
        assert rules.plan_stack(busy, None, desired())[0] == "wait"


def test_service_connect_namespace_defaults_to_the_cluster():
    assert rules.desired_parameters(C, "v", ["s"], [], "enabled", True, "")["ServiceConnectNamespace"] == C
    assert rules.desired_parameters(C, "v", ["s"], [], "enabled", True, "ns")["ServiceConnectNamespace"] == "ns"
    assert rules.desired_parameters(C, "v", ["s"], [], "enabled", False, "ns")["ServiceConnectNamespace"] == ""


def test_events_read_as_lines():
    events = [  # newest first, as CloudFormation lists them
        {"ResourceType": "AWS::CloudFormation::Stack", "LogicalResourceId": "S", "ResourceStatus": "ROLLBACK_COMPLETE"},
        {"ResourceType": "AWS::ECS::Cluster", "LogicalResourceId": "ECSCluster", "ResourceStatus": "DELETE_COMPLETE"},
        {"ResourceType": "AWS::ServiceDiscovery::HttpNamespace", "LogicalResourceId": "NS",
         "ResourceStatus": "CREATE_FAILED", "ResourceStatusReason": "Namespace already exists"},
        {"ResourceType": "AWS::ECS::Cluster", "LogicalResourceId": "ECSCluster", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Resource creation cancelled"},
    ]
    failed, latest = rules.format_events(events, limit=2)
    assert failed == ["AWS::ECS::Cluster ECSCluster CREATE_FAILED: Resource creation cancelled",
                      "AWS::ServiceDiscovery::HttpNamespace NS CREATE_FAILED: Namespace already exists"]
    assert latest == ["AWS::CloudFormation::Stack S ROLLBACK_COMPLETE", "AWS::ECS::Cluster ECSCluster DELETE_COMPLETE"]


GOOD = {
    "fargate_cluster_requested_name": R, "fargate_cluster_stack_name": "",
    "fargate_cluster_vpc_id": "vpc-0123456789abcdef0",
    "fargate_cluster_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "fargate_cluster_security_group_ids": [], "fargate_cluster_service_connect_namespace": "",
    "fargate_cluster_tags": {}, "fargate_cluster_template_path": "",
}


def test_good_input_passes():
    assert checks.check(GOOD) == []
    assert checks.check(dict(GOOD, fargate_cluster_template_path=TEMPLATE)) == []


@pytest.mark.parametrize("variable, value", [
    ("fargate_cluster_vpc_id", "LabVPC"),
    ("fargate_cluster_subnet_ids", []),
    ("fargate_cluster_subnet_ids", ["PublicSubnet1"]),
    ("fargate_cluster_subnet_ids", ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"]),
    ("fargate_cluster_security_group_ids", ["default"]),
    ("fargate_cluster_requested_name", "bad name"),
    ("fargate_cluster_stack_name", "1-starts-with-a-digit"),
    ("fargate_cluster_stack_name", "has_underscore"),
    ("fargate_cluster_service_connect_namespace", "-x"),
    ("fargate_cluster_tags", dict(("k%d" % i, "v") for i in range(51))),
    ("fargate_cluster_tags", {"k" * 129: "v"}),
    ("fargate_cluster_template_path", "/no/such/template.yml"),
])
def test_each_rule_names_the_variable(variable, value):
    problems = checks.check(dict(GOOD, **{variable: value}))
    assert len(problems) == 1, problems
    assert problems[0].startswith(variable), problems


def test_the_name_limit_grows_with_a_stack_name():
    long_name = "a" * 200
    assert checks.check(dict(GOOD, fargate_cluster_requested_name=long_name))
    assert checks.check(dict(GOOD, fargate_cluster_requested_name=long_name, fargate_cluster_stack_name="s")) == []
