"""ECS services with the CODE_DEPLOY controller on the local cloud answer as AWS does (patches/fixes/ecs.py)."""
import botocore.exceptions
import pytest

from localcloud.testing.wire import assert_conforms, error_codes, RawCapture

CLUSTER = "microservices-serverlesscluster"
NAME = "customer-microservice"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/customer-tg-%s/0123456789abcdef"
REFUSED = ("Unable to update %s on services with a CODE_DEPLOY deployment controller. "
           "Use AWS CodeDeploy to trigger a new deployment.")


@pytest.fixture
def lab(cloud):
    ec2, ecs = cloud.client("ec2"), cloud.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.16.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="microservices-sg", Description="lab", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family=NAME, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512", memory="1024",
        containerDefinitions=[{"name": "customer", "image": "customer:latest", "memory": 1024,
                               "portMappings": [{"containerPort": 8080}]}])
    params = dict(
        cluster=CLUSTER, serviceName=NAME, taskDefinition=NAME, desiredCount=1, launchType="FARGATE",
        schedulingStrategy="REPLICA", deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[{"targetGroupArn": TG % "two", "containerName": "customer", "containerPort": 8080}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group],
                                                      "assignPublicIp": "ENABLED"}})
    return ecs, params


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_create_makes_the_primary_task_set(lab):
    ecs, params = lab
    capture = RawCapture(ecs)
    ecs.create_service(**params)
    raw = assert_conforms(capture, "ecs", "CreateService")["service"]
    assert raw["deployments"] == [] and raw["pendingCount"] == 0
    (task_set,) = raw["taskSets"]
    assert task_set["status"] == "PRIMARY"
    assert task_set["taskDefinition"].endswith("task-definition/%s:1" % NAME)
    assert task_set["loadBalancers"] == params["loadBalancers"]
    assert task_set["networkConfiguration"] == params["networkConfiguration"]
    assert task_set["launchType"] == "FARGATE" and task_set["computedDesiredCount"] == 1
    assert raw["platformVersion"] == "LATEST"
    assert raw["deploymentConfiguration"] == {"maximumPercent": 200, "minimumHealthyPercent": 100}
    ecs.describe_services(cluster=CLUSTER, services=[NAME])
    described = assert_conforms(capture, "ecs", "DescribeServices")["services"][0]
    assert described["taskSets"][0]["taskSetArn"] == task_set["taskSetArn"]


@pytest.mark.parametrize("change,what", [
    ({"taskDefinition": NAME + ":1"}, "task definition"),
    ({"loadBalancers": [{"targetGroupArn": TG % "one", "containerName": "customer", "containerPort": 8080}]},
     "load balancers"),
    ({"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0"], "assignPublicIp": "DISABLED"}}},
     "network parameters"),
    ({"forceNewDeployment": True}, "network parameters"),
])
def test_update_refuses_what_only_codedeploy_changes(lab, change, what):
    ecs, params = lab
    ecs.create_service(**params)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecs.update_service(cluster=CLUSTER, service=NAME, **change)
    assert error(excinfo) == ("InvalidParameterException", REFUSED % what)
    assert "InvalidParameterException" in error_codes("ecs", "UpdateService")
    service = ecs.describe_services(cluster=CLUSTER, services=[NAME])["services"][0]
    assert service["loadBalancers"] == params["loadBalancers"]
    assert service["taskSets"][0]["loadBalancers"] == params["loadBalancers"]


def test_desired_count_reaches_the_primary_task_set(lab):
    ecs, params = lab
    ecs.create_service(**params)
    updated = ecs.update_service(cluster=CLUSTER, service=NAME, desiredCount=3)["service"]
    assert updated["desiredCount"] == 3 and updated["taskSets"][0]["computedDesiredCount"] == 3
    assert updated["runningCount"] == 0  # nothing runs before CodeDeploy's first deployment


def test_a_deleted_service_drains_before_its_name_is_free(lab):
    ecs, params = lab
    ecs.create_service(**params)
    assert ecs.delete_service(cluster=CLUSTER, service=NAME, force=True)["service"]["status"] == "DRAINING"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecs.create_service(**params)
    assert error(excinfo) == ("InvalidParameterException", "Unable to Start a service that is still Draining.")
    for action in (lambda: ecs.update_service(cluster=CLUSTER, service=NAME, desiredCount=0),
                   lambda: ecs.delete_service(cluster=CLUSTER, service=NAME, force=True)):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            action()
        assert error(excinfo) == ("ServiceNotActiveException", "Service was not ACTIVE.")
    # Draining shows to the next two DescribeServices (LOCALCLOUD_ECS_DRAIN_POLLS), then it is over.
    statuses = [ecs.describe_services(cluster=CLUSTER, services=[NAME])["services"][0]["status"]
                for _poll in range(3)]
    assert statuses == ["DRAINING", "DRAINING", "INACTIVE"]
    assert ecs.create_service(**params)["service"]["status"] == "ACTIVE"


def test_create_over_an_active_service_is_refused(lab):
    ecs, params = lab
    first = ecs.create_service(**params)["service"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecs.create_service(**dict(params, desiredCount=2))
    assert error(excinfo) == ("InvalidParameterException", "Creation of service was not idempotent.")
    again = ecs.describe_services(cluster=CLUSTER, services=[NAME])["services"][0]
    assert again["desiredCount"] == 1 and again["taskSets"][0]["id"] == first["taskSets"][0]["id"]


def test_aws_managed_policy_for_codedeploy_is_attachable(cloud):
    """localcloud/patches/fixes/iam.py: AWSCodeDeployRoleForECS exists as in every AWS account."""
    iam = cloud.client("iam")
    iam.create_role(RoleName="DeployRole", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    arn = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
    iam.attach_role_policy(RoleName="DeployRole", PolicyArn=arn)
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="DeployRole")["AttachedPolicies"]] == [arn]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"])
    actions = {a for st in document["PolicyVersion"]["Document"]["Statement"] for a in st["Action"]}
    assert "ecs:CreateTaskSet" in actions
