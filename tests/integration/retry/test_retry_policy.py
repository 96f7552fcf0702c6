"""The collection's one retry policy (module_utils/_aws.py) against the local cloud's faults: on every service
family the collection calls, more throttles than botocore's own two retries, and seconds of 503, are ridden out;
a load balancer's listener rides out 20 s of 503; a failure after a write reports changed.

Calls go through clients made by _aws.client() for an AnsibleAWSModule built in this process, with the
connection settings a playbook's module_defaults give; the modules themselves run the same way (their main()).
"""
import json

import pytest

from localcloud.testing.cloud import add_fault, clear_faults, faults

from ansible_collections.cloudlab.microservices.plugins.module_utils import _aws as aws
from ansible_collections.amazon.aws.plugins.module_utils import modules
from ansible.module_utils import testing
from ansible_collections.cloudlab.microservices.plugins.modules import alb
from ansible_collections.cloudlab.microservices.plugins.modules import ecs_taskdef_sync

THROTTLES = 3   # more than botocore's default 2 retries (the waits stay short: see the unit tests for the bounds)
OUTAGE = 2      # seconds of 503


def connection(cloud):
    return dict(endpoint_url=cloud.endpoint, region="us-east-1", access_key="test", secret_key="test",
                session_token="test")


@pytest.fixture
def module(cloud):
    clear_faults(cloud)
    with testing.patch_module_args(connection(cloud)):
        yield modules.AnsibleAWSModule(argument_spec={})
    clear_faults(cloud)


# family: (client, the signing name a fault matches, a read, a write or None)
FAMILIES = {
    "ecs": ("ecs", "ecs", lambda c: c.list_clusters(), lambda c: c.create_cluster(clusterName="retry")),
    "elbv2": ("elbv2", "elasticloadbalancing", lambda c: c.describe_load_balancers(), None),
    "codedeploy": ("codedeploy", "codedeploy", lambda c: c.list_applications(),
                   lambda c: c.create_application(applicationName="retry", computePlatform="ECS")),
    "codepipeline": ("codepipeline", "codepipeline", lambda c: c.list_pipelines(), None),
    "events": ("events", "events", lambda c: c.list_rules(),
               lambda c: c.put_rule(Name="retry", EventPattern='{"source": ["aws.ecr"]}')),
    "ecr": ("ecr", "ecr", lambda c: c.describe_repositories(), lambda c: c.create_repository(repositoryName="retry")),
    "cloudformation": ("cloudformation", "cloudformation", lambda c: c.describe_stacks(), None),
    # S3 throttles with 503 SlowDown, the outage below; the local cloud's throttle has no S3 shape.
    "s3": ("s3", "s3", None, lambda c: c.create_bucket(Bucket="retry-bucket")),
    "codecommit": ("codecommit", "codecommit", lambda c: c.list_repositories(), None),
    "iam": ("iam", "iam", lambda c: c.list_roles(), None),
    "sts": ("sts", "sts", lambda c: c.get_caller_identity(), None),
    "ec2": ("ec2", "ec2", lambda c: c.describe_vpcs(), None),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_throttles_and_503_are_ridden_out(cloud, module, family):
    service, match, read, write = FAMILIES[family]
    client = aws.client(module, service)

    if read is not None:
        add_fault(cloud, mode="throttle", count=THROTTLES, match=match)
        answer = read(client)
        assert answer["ResponseMetadata"]["RetryAttempts"] == THROTTLES
        assert faults(cloud) == []

    add_fault(cloud, mode="unavailable", seconds=OUTAGE, match=match)
    answer = (write or read)(client)
    assert answer["ResponseMetadata"]["RetryAttempts"] >= 2
    assert faults(cloud) == [] or faults(cloud)[0]["hits"] == answer["ResponseMetadata"]["RetryAttempts"]

    add_fault(cloud, mode="drop", count=1, match=match)
    assert (read or write)(client)["ResponseMetadata"]["RetryAttempts"] == 1


def run_module(main, args, cloud, capsys):
    with testing.patch_module_args(dict(args, **connection(cloud))):
        with pytest.raises(SystemExit):
            main()
    return json.loads(capsys.readouterr().out)


def alb_args(cloud):
    """What Phase 6 gives the alb module for one service "retry": its target group pair exists."""
    ec2 = cloud.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    by_zone = dict((s["AvailabilityZone"], s["SubnetId"]) for s in subnets)
    group = ec2.create_security_group(GroupName="retry-sg", Description="retry", VpcId=vpc)["GroupId"]
    for which in ("one", "two"):
        cloud.client("elbv2").create_target_group(Name="retry-tg-" + which, Protocol="HTTP", Port=8080,
                                                  VpcId=vpc, TargetType="ip")
    return dict(name="retryLB", services=[{"name": "retry"}], subnets=sorted(by_zone.values())[:2],
                security_groups=[group])


def listener_ports(cloud):
    elbv2 = cloud.client("elbv2")
    lb = elbv2.describe_load_balancers(Names=["retryLB"])["LoadBalancers"][0]
    return sorted(listener["Port"] for listener in elbv2.describe_listeners(
        LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"])


def test_a_listener_rides_out_20_seconds_of_503(cloud, module, capsys):
    args = alb_args(cloud)
    add_fault(cloud, mode="unavailable", seconds=20, match="CreateListener")
    result = run_module(alb.main, args, cloud, capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert listener_ports(cloud) == [80, 8080]


def test_a_failure_after_a_create_reports_changed(cloud, module, capsys, monkeypatch):
    args = alb_args(cloud)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # the user's own limit: the outage outlasts it
    add_fault(cloud, mode="unavailable", count=1000, match="CreateListener")
    result = run_module(alb.main, args, cloud, capsys)
    assert result["failed"] is True
    assert "reached max retries: 1" in result["msg"] or result["error"]["code"] == "ServiceUnavailable", result
    assert result["changed"] is True, "the load balancer was created before the listener failed"
    assert listener_ports(cloud) == []


def test_a_module_rides_out_throttling_of_every_call(cloud, module, capsys):
    role = "arn:aws:iam::123456789012:role/PipelineRole"
    definition = {"family": "retry-microservice", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
                  "cpu": "512", "memory": "1024", "executionRoleArn": role,
                  "containerDefinitions": [{"name": "retry", "image": "retry:latest", "essential": True,
                                            "portMappings": [{"containerPort": 8080}]}]}
    add_fault(cloud, mode="throttle", count=THROTTLES, match="DescribeTaskDefinition")
    add_fault(cloud, mode="throttle", count=THROTTLES, match="RegisterTaskDefinition")
    result = run_module(ecs_taskdef_sync.main, {"task_definitions": [definition]}, cloud, capsys)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and result["task_definitions"][0]["revision"] == 1
    assert faults(cloud) == []
