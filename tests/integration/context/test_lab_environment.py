"""playbooks/lab_environment.yml: idempotent, and only for a local cloud."""
import pytest

from helpers import run_playbook

LAB = "playbooks/lab_environment.yml"


def lab_vpcs(cloud):
    return cloud.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": ["LabVPC"]}])["Vpcs"]


def test_creates_the_lab_then_changes_nothing(cloud):
    first = run_playbook(cloud, LAB)
    assert first.rc == 0, first
    assert first.stats()["localhost"]["changed"] > 0

    ec2 = cloud.client("ec2")
    (vpc,) = lab_vpcs(cloud)
    assert vpc["CidrBlock"] == "10.16.0.0/16"
    subnets = {t["Value"]: s
               for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
               for t in s.get("Tags", []) if t["Key"] == "Name"}
    assert set(subnets) == {"PublicSubnet1", "PublicSubnet2", "PrivateSubnet1", "PrivateSubnet2"}
    assert subnets["PublicSubnet1"]["AvailabilityZone"] != subnets["PublicSubnet2"]["AvailabilityZone"]
    assert subnets["PublicSubnet1"]["MapPublicIpOnLaunch"] and subnets["PublicSubnet2"]["MapPublicIpOnLaunch"]
    assert not subnets["PrivateSubnet1"]["MapPublicIpOnLaunch"]

    igws = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
    assert len(igws) == 1
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "route.destination-cidr-block", "Values": ["0.0.0.0/0"]},
                 {"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["RouteTables"]
    assert len(tables) == 1
    assert any(r.get("GatewayId") == igws[0]["InternetGatewayId"] for r in tables[0]["Routes"])
    associated = {a.get("SubnetId") for a in tables[0]["Associations"]}
    assert associated >= {subnets["PublicSubnet1"]["SubnetId"], subnets["PublicSubnet2"]["SubnetId"]}
    assert subnets["PrivateSubnet1"]["SubnetId"] not in associated

    trust = cloud.client("iam").get_role(RoleName="PipelineRole")["Role"]["AssumeRolePolicyDocument"]
    principals = {p for st in trust["Statement"] for p in st["Principal"]["Service"]}
    assert principals == {"ecs-tasks.amazonaws.com", "codedeploy.amazonaws.com",
                          "codepipeline.amazonaws.com"}
    db = cloud.client("rds").describe_db_instances(DBInstanceIdentifier="supplierdb")["DBInstances"][0]
    assert db["Engine"] == "mysql" and db["Endpoint"]["Address"]

    second = run_playbook(cloud, LAB)
    assert second.rc == 0, second
    assert second.stats()["localhost"]["changed"] == 0
    assert len(lab_vpcs(cloud)) == 1


def test_password_never_printed(cloud):
    result = run_playbook(cloud, LAB, verbosity=3, json_output=False)
    assert result.rc == 0, result
    assert "local-cloud-dummy" not in result.output


@pytest.mark.parametrize("how", ["aws_inventory", "remote_endpoint"])
def test_refuses_an_endpoint_that_is_not_local(cloud, how):
    if how == "aws_inventory":
        # inventories/aws says cloudlab_aws_is_local: false, even though the
        # environment's AWS_ENDPOINT_URL reaches the local cloud.
        result = run_playbook(cloud, LAB, inventory="inventories/aws")
    else:
        result = run_playbook(cloud, LAB, env={"LOCALCLOUD_ENDPOINT": "https://ec2.us-east-1.amazonaws.com"})
    assert result.rc != 0, result
    assert "Failed to confirm a local cloud" in result.output
    assert "lab_environment_force=true" in " ".join(result.output.split())
    assert lab_vpcs(cloud) == []
