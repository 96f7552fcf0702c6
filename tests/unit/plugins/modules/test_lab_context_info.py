"""lab_context_info where no local cloud can go: credentials that may not read IAM.

The local cloud answers every GetRole; AWS Academy lab roles and Cloud9's
managed temporary credentials answer AccessDenied. The module then builds the
role ARNs as the lab writes them, with a warning. Each test runs the module's
main() in process against real botocore clients answered by Stubbers (the `stubs` fixture).
"""
import datetime
import json

import pytest

from helpers import run_aws_module

from ansible_collections.cloudlab.microservices.plugins.modules import lab_context_info

REGION = "us-east-1"
ACCOUNT = "123456789012"
DENIED = dict(service_error_code="AccessDenied", http_status_code=403,
              service_message="User: arn:aws:sts::%s:assumed-role/voclabs/user is not authorized to perform: "
                              "iam:GetRole" % ACCOUNT)
NO_ROLE = dict(service_error_code="NoSuchEntity", http_status_code=404, service_message="Role not found")
TOKEN = "QVdTOnNlY3JldC1wYXNzd29yZA=="  # base64 of AWS:secret-password


@pytest.fixture(autouse=True)
def no_earlier_warnings(monkeypatch):
    """Warnings are kept per process: start each module run with none."""
    from ansible.module_utils.common import warnings as ansible_warnings
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
    monkeypatch.setattr(ansible_warnings, "_global_deprecations", {})


def lab(stubs, pipeline, deploy, registry=True):
    """The lab's answers; `pipeline` / `deploy`: an ARN, or the error GetRole answers."""
    stubs["sts"].add_response("get_caller_identity", {
        "Account": ACCOUNT, "UserId": "AROAEXAMPLE:user",
        "Arn": "arn:aws:sts::%s:assumed-role/voclabs/user" % ACCOUNT})
    stubs["ec2"].add_response("describe_vpcs", {"Vpcs": [
        {"VpcId": "vpc-1", "Tags": [{"Key": "Name", "Value": "LabVPC"}]}]},
        {"Filters": [{"Name": "tag:Name", "Values": ["LabVPC"]}]})
    stubs["ec2"].add_response("describe_subnets", {"Subnets": [
        {"SubnetId": "subnet-2", "Tags": [{"Key": "Name", "Value": "PublicSubnet2"}]},
        {"SubnetId": "subnet-1", "Tags": [{"Key": "Name", "Value": "PublicSubnet1"}]}]},
        {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]},
                     {"Name": "tag:Name", "Values": ["PublicSubnet1", "PublicSubnet2"]}]})
    for name, answer in (("PipelineRole", pipeline), ("DeployRole", deploy)):
        if isinstance(answer, dict):
            stubs["iam"].add_client_error("get_role", expected_params={"RoleName": name}, **answer)
        else:
            stubs["iam"].add_response("get_role", {"Role": {
                "RoleName": name, "Arn": answer, "Path": "/", "RoleId": "AROAEXAMPLEEXAMPLE1",
                "CreateDate": datetime.datetime(2026, 1, 1)}}, {"RoleName": name})
        if name == "PipelineRole" and answer == NO_ROLE:
            return
    stubs["rds"].add_response("describe_db_instances", {"DBInstances": [
        {"DBInstanceIdentifier": "supplierdb",
         "Endpoint": {"Address": "supplierdb.abcdefghij.us-east-1.rds.amazonaws.com", "Port": 3306}}]},
        {"DBInstanceIdentifier": "supplierdb"})
    if registry:
        stubs["ecr"].add_response("get_authorization_token", {"authorizationData": [{
            "authorizationToken": TOKEN, "expiresAt": datetime.datetime(2026, 1, 1),
            "proxyEndpoint": "https://%s.dkr.ecr.us-east-1.amazonaws.com" % ACCOUNT}]})
    else:
        stubs["ecr"].add_client_error("get_authorization_token", service_error_code="AccessDeniedException",
                                      http_status_code=400, service_message="not authorized")


def run(capsys, **args):
    return run_aws_module(lab_context_info.main, args, capsys, region=REGION)


def warnings(result):
    """Warning texts (ansible-core 2.19 returns them as structured summaries)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings") or []]


def test_iam_access_denied_builds_the_arns_with_a_warning(stubs, capsys):
    lab(stubs, pipeline=DENIED, deploy=DENIED)
    result = run(capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["pipeline_role_arn"] == "arn:aws:iam::%s:role/PipelineRole" % ACCOUNT
    assert result["deploy_role_arn"] == "arn:aws:iam::%s:role/DeployRole" % ACCOUNT
    assert result["iam_readable"] is False
    (warning,) = warnings(result)
    # A warning, and no deprecation warning riding along with it (amazon.aws 10's warn() on core 2.19 brings one).
    assert not result.get("deprecations"), result.get("deprecations")
    assert "AccessDenied on GetRole" in warning and "PipelineRole and DeployRole" in warning
    # Everything else is read as usual; subnets in the order asked, not the order answered.
    assert result["subnet_ids"] == ["subnet-1", "subnet-2"]
    assert result["vpc_id"] == "vpc-1" and result["region"] == REGION and result["partition"] == "aws"
    assert result["db_host"] == "supplierdb.abcdefghij.us-east-1.rds.amazonaws.com"
    assert result["registry"] == "%s.dkr.ecr.us-east-1.amazonaws.com" % ACCOUNT
    assert TOKEN not in json.dumps(result) and "secret-password" not in json.dumps(result)


def test_readable_iam_gives_the_real_arns_and_no_warning(stubs, capsys):
    real = "arn:aws:iam::%s:role/service-role/PipelineRole" % ACCOUNT
    lab(stubs, pipeline=real, deploy=NO_ROLE)
    result = run(capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["pipeline_role_arn"] == real
    assert result["deploy_role_arn"] == ""
    assert result["iam_readable"] is True
    assert not warnings(result)


def test_missing_pipeline_role_fails_naming_the_variable(stubs, capsys):
    lab(stubs, pipeline=NO_ROLE, deploy=None)
    result = run(capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("IAM role 'PipelineRole' not found in account %s" % ACCOUNT)
    assert "aws_context_pipeline_role_name" in result["msg"] and "never creates it" in result["msg"]


def test_denied_registry_token_builds_the_registry_host(stubs, capsys):
    lab(stubs, pipeline="arn:aws:iam::%s:role/PipelineRole" % ACCOUNT, deploy=NO_ROLE, registry=False)
    result = run(capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["registry"] == "%s.dkr.ecr.us-east-1.amazonaws.com" % ACCOUNT
    assert any("ecr:GetAuthorizationToken" in w for w in warnings(result))


def test_other_iam_errors_still_fail(stubs, capsys):
    stubs["sts"].add_response("get_caller_identity", {"Account": ACCOUNT, "UserId": "u",
                                                      "Arn": "arn:aws:iam::%s:user/u" % ACCOUNT})
    stubs["ec2"].add_response("describe_vpcs", {"Vpcs": [{"VpcId": "vpc-1"}]})
    stubs["ec2"].add_response("describe_subnets", {"Subnets": [
        {"SubnetId": "subnet-1", "Tags": [{"Key": "Name", "Value": "PublicSubnet1"}]}]})
    stubs["iam"].add_client_error("get_role", service_error_code="ServiceFailure", http_status_code=400)
    result = run(capsys, subnet_names=["PublicSubnet1"])
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to look up IAM role PipelineRole: ")
    assert result["error"]["code"] == "ServiceFailure"
