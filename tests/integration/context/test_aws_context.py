"""The aws_context role against the lab environment on a real local cloud.

One lab (tests/conftest.py's `lab`, made by playbooks/lab_environment.yml) serves the whole module; tests
that hide a resource put it back in `finally`, so they do not depend on order.
"""
import base64
import json
import os

import pytest

from helpers import run_playbook

HERE = os.path.dirname(os.path.abspath(__file__))
CONTEXT = os.path.join(HERE, "context.yml")


def shown_facts(result):
    """The `msg` of the play's last task (the debug of the published facts)."""
    play = json.loads(result.stdout[result.stdout.index("{"):])["plays"][0]
    return play["tasks"][-1]["hosts"]["localhost"]["msg"]


def lab_ids(cloud):
    """What boto3 sees of the lab: the truth the role's facts are checked against."""
    ec2 = cloud.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["LabVPC"]}])["Vpcs"]
    assert len(vpcs) == 1
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["Subnets"]
    by_name = {t["Value"]: s for s in subnets for t in s.get("Tags", []) if t["Key"] == "Name"}
    role = cloud.client("iam").get_role(RoleName="PipelineRole")["Role"]
    db = cloud.client("rds").describe_db_instances(DBInstanceIdentifier="supplierdb")["DBInstances"][0]
    account = cloud.client("sts").get_caller_identity()["Account"]
    return {"vpc": vpcs[0], "subnets": by_name, "role": role, "db": db, "account": account}


def failure_message(result):
    assert result.rc != 0, result
    return " ".join(result.output.split())


def test_finds_the_lab(lab):
    result = run_playbook(lab, CONTEXT)
    assert result.rc == 0, result
    assert result.stats()["localhost"]["changed"] == 0
    facts = shown_facts(result)
    truth = lab_ids(lab)
    assert facts["account_id"] == truth["account"]
    assert facts["partition"] == "aws"
    assert facts["region"] == "us-east-1"
    assert facts["vpc_id"] == truth["vpc"]["VpcId"]
    assert facts["subnet_ids"] == [truth["subnets"]["PublicSubnet1"]["SubnetId"],
                                   truth["subnets"]["PublicSubnet2"]["SubnetId"]]
    assert facts["pipeline_role_arn"] == truth["role"]["Arn"]
    assert facts["db_host"] == truth["db"]["Endpoint"]["Address"]


def test_check_mode_keeps_order_and_tolerates_absent_db(lab):
    # Lookups must run in check mode (later roles predict from real ids), the
    # subnet ids follow aws_context_subnet_names' order, and a missing RDS
    # instance gives '' rather than a failure.
    result = run_playbook(lab, CONTEXT, check=True, extra_vars={
        "aws_context_subnet_names": ["PublicSubnet2", "PrivateSubnet1", "PublicSubnet1"],
        "aws_context_db_instance": "nosuchdb",
    })
    assert result.rc == 0, result
    facts = shown_facts(result)
    subnets = lab_ids(lab)["subnets"]
    assert facts["subnet_ids"] == [subnets[n]["SubnetId"]
                                   for n in ("PublicSubnet2", "PrivateSubnet1", "PublicSubnet1")]
    assert facts["db_host"] == ""


def test_missing_vpc_fails_with_its_name(lab):
    ec2 = lab.client("ec2")
    vpc_id = lab_ids(lab)["vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "NotTheLab"}])
    try:
        msg = failure_message(run_playbook(lab, CONTEXT))
    finally:
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "LabVPC"}])
    assert "VPC with Name tag 'LabVPC' not found in us-east-1" in msg
    assert "aws_context_vpc_name" in msg and "make lab" in msg


def test_missing_subnet_fails_with_its_name(lab):
    ec2 = lab.client("ec2")
    subnet_id = lab_ids(lab)["subnets"]["PublicSubnet2"]["SubnetId"]
    ec2.delete_tags(Resources=[subnet_id], Tags=[{"Key": "Name"}])
    try:
        msg = failure_message(run_playbook(lab, CONTEXT))
    finally:
        ec2.create_tags(Resources=[subnet_id], Tags=[{"Key": "Name", "Value": "PublicSubnet2"}])
    assert "Subnet(s) with Name tag 'PublicSubnet2' not found in VPC 'LabVPC'" in msg
    assert "PublicSubnet1'" not in msg
    assert "aws_context_subnet_names" in msg and "make lab" in msg


def test_missing_pipeline_role_fails_with_its_name(lab):
    iam = lab.client("iam")
    role = iam.get_role(RoleName="PipelineRole")["Role"]
    policies = {name: iam.get_role_policy(RoleName="PipelineRole", PolicyName=name)["PolicyDocument"]
                for name in iam.list_role_policies(RoleName="PipelineRole")["PolicyNames"]}
    for name in policies:
        iam.delete_role_policy(RoleName="PipelineRole", PolicyName=name)
    iam.delete_role(RoleName="PipelineRole")
    try:
        msg = failure_message(run_playbook(lab, CONTEXT))
    finally:
        iam.create_role(RoleName="PipelineRole",
                        AssumeRolePolicyDocument=json.dumps(role["AssumeRolePolicyDocument"]))
        for name, doc in policies.items():
            iam.put_role_policy(RoleName="PipelineRole", PolicyName=name, PolicyDocument=json.dumps(doc))
    assert "IAM role 'PipelineRole' not found in account" in msg
    assert "never creates it" in msg
    assert "aws_context_pipeline_role_name" in msg


def module_tasks(result):
    """Actions of the tasks that ran a module (these actions run on the controller, no module)."""
    play = json.loads(result.stdout[result.stdout.index("{"):])["plays"][0]
    actions = [task["hosts"]["localhost"].get("action") for task in play["tasks"]]
    return [a for a in actions if a not in ("ansible.builtin.set_fact", "ansible.builtin.debug",
                                            "ansible.builtin.validate_argument_spec",
                                            "cloudlab.microservices.preflight")]


def test_one_module_run_and_no_deprecation_warning(lab):
    # Issue 10 item 7: amazon.aws.iam_role_info warned about deprecated return
    # values on every run. The context is now one run of our own module.
    result = run_playbook(lab, CONTEXT, json_output=False)
    assert result.rc == 0, result
    assert "deprecat" not in result.output.lower(), result.output
    assert "[WARNING]" not in result.output, result.output
    assert module_tasks(run_playbook(lab, CONTEXT)) == ["cloudlab.microservices.lab_context_info"]


def test_deploy_role_and_registry(lab):
    # Names of their own: the lab environment may or may not hold DeployRole.
    facts = shown_facts(run_playbook(lab, CONTEXT, extra_vars={"aws_context_deploy_role_name": "NoSuchDeployRole"}))
    registry = lab.client("ecr").get_authorization_token()["authorizationData"][0]["proxyEndpoint"]
    assert facts["registry"] == registry.split("://", 1)[-1]
    assert facts["deploy_role_arn"] == ""
    iam = lab.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "codedeploy.amazonaws.com"}}]}
    arn = iam.create_role(RoleName="TestDeployRole", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    try:
        facts = shown_facts(run_playbook(lab, CONTEXT, extra_vars={"aws_context_deploy_role_name": "TestDeployRole"}))
    finally:
        iam.delete_role(RoleName="TestDeployRole")
    assert facts["deploy_role_arn"] == arn


@pytest.mark.parametrize("extra, expected", [
    ({"aws_context_subnet_names": ["PublicSubnet1", "PublicSubnet1"]},
     "aws_context_subnet_names names PublicSubnet1 more than once"),
    ({"aws_context_vpc_name": " "}, "aws_context_vpc_name is empty"),
    ({"aws_context_pipeline_role_name": "no spaces allowed"}, "aws_context_pipeline_role_name is 'no spaces allowed'"),
    ({"aws_context_db_instance": "1db"}, "aws_context_db_instance is '1db'"),
    ({"aws_context_subnet_names": "PublicSubnet1"}, None),
])
def test_bad_input_is_refused_before_any_lookup(lab, extra, expected):
    result = run_playbook(lab, CONTEXT, extra_vars=extra)
    if expected is None:
        # A string where a list is expected: the argument spec turns it into a
        # one-element list, as Ansible does for every role; the lookup then runs.
        assert result.rc == 0, result
        return
    msg = failure_message(result)
    assert "Failed to validate the aws_context role's inputs: " + expected in msg
    play = json.loads(result.stdout[result.stdout.index("{"):])["plays"][0]
    assert play["tasks"][-1]["hosts"]["localhost"]["action"] == "cloudlab.microservices.preflight"
    assert module_tasks(result) == []


def test_registry_token_is_never_printed(lab):
    token = lab.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    result = run_playbook(lab, CONTEXT, json_output=False, verbosity=3)
    assert result.rc == 0, result
    assert "lab_context_info" in result.output
    assert token not in result.output
    assert base64.b64decode(token).decode().partition(":")[2] not in result.output
