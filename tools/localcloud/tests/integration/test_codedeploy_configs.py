"""Deployment configurations and StopDeployment, answered by localcloud/patches/fixes/codedeploy.py as on AWS."""
import botocore.exceptions
import pytest

from localcloud.testing.wire import error_code

ROLE = "arn:aws:iam::123456789012:role/DeployRole"


@pytest.fixture
def codedeploy(cloud):
    client = cloud.client("codedeploy")
    client.create_application(applicationName="app", computePlatform="ECS")
    return client


@pytest.mark.parametrize("name, routing", [
    ("CodeDeployDefault.ECSAllAtOnce", {"type": "AllAtOnce"}),
    ("CodeDeployDefault.ECSCanary10Percent5Minutes",
     {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5}}),
    ("CodeDeployDefault.ECSCanary10Percent15Minutes",
     {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15}}),
    ("CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
     {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1}}),
    ("CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
     {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 3}}),
    ("CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
     {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1}}),
])
def test_predefined_configurations_show_their_traffic_routing(codedeploy, name, routing):
    info = codedeploy.get_deployment_config(deploymentConfigName=name)["deploymentConfigInfo"]
    assert info["deploymentConfigName"] == name
    assert info["trafficRoutingConfig"] == routing
    assert info["computePlatform"] in ("ECS", "Lambda") and info["deploymentConfigId"]


def test_server_configuration_shows_minimum_healthy_hosts(codedeploy):
    info = codedeploy.get_deployment_config(deploymentConfigName="CodeDeployDefault.OneAtATime")["deploymentConfigInfo"]
    assert info["minimumHealthyHosts"] == {"type": "HOST_COUNT", "value": 1}
    assert "trafficRoutingConfig" not in info


def test_custom_configuration_lives_until_deleted(codedeploy):
    routing = {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 20, "canaryInterval": 2}}
    config_id = codedeploy.create_deployment_config(deploymentConfigName="Mine", computePlatform="ECS",
                                                    trafficRoutingConfig=routing)["deploymentConfigId"]
    info = codedeploy.get_deployment_config(deploymentConfigName="Mine")["deploymentConfigInfo"]
    assert (info["deploymentConfigId"], info["computePlatform"], info["trafficRoutingConfig"]) == (
        config_id, "ECS", routing)
    names = codedeploy.list_deployment_configs()["deploymentConfigsList"]
    assert "Mine" in names and "CodeDeployDefault.ECSAllAtOnce" in names

    # A group takes it; while the group uses it, it cannot be deleted.
    codedeploy.create_deployment_group(applicationName="app", deploymentGroupName="g", serviceRoleArn=ROLE,
                                       deploymentConfigName="Mine")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.delete_deployment_config(deploymentConfigName="Mine")
    assert error_code(excinfo) == "DeploymentConfigInUseException"
    codedeploy.delete_deployment_group(applicationName="app", deploymentGroupName="g")
    codedeploy.delete_deployment_config(deploymentConfigName="Mine")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.get_deployment_config(deploymentConfigName="Mine")
    assert error_code(excinfo) == "DeploymentConfigDoesNotExistException"


@pytest.mark.parametrize("kwargs, code", [
    (dict(deploymentConfigName="CodeDeployDefault.ECSAllAtOnce", computePlatform="ECS"),
     "DeploymentConfigAlreadyExistsException"),
    (dict(deploymentConfigName="c", computePlatform="ECS",
          trafficRoutingConfig={"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10}}),
     "InvalidTrafficRoutingConfigurationException"),
    (dict(deploymentConfigName="c", computePlatform="ECS", minimumHealthyHosts={"type": "HOST_COUNT", "value": 1}),
     "InvalidMinimumHealthyHostValueException"),
    (dict(deploymentConfigName="c", computePlatform="Server"), "InvalidMinimumHealthyHostValueException"),
], ids=["exists", "canary-without-interval", "hosts-on-ecs", "server-without-hosts"])
def test_create_configuration_errors(codedeploy, kwargs, code):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.create_deployment_config(**kwargs)
    assert error_code(excinfo) == code


def test_predefined_configuration_cannot_be_deleted(codedeploy):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.delete_deployment_config(deploymentConfigName="CodeDeployDefault.ECSAllAtOnce")
    assert error_code(excinfo) == "InvalidOperationException"


def test_a_group_of_another_platform_refuses_a_custom_configuration(codedeploy):
    codedeploy.create_deployment_config(deploymentConfigName="Hosts", computePlatform="Server",
                                        minimumHealthyHosts={"type": "FLEET_PERCENT", "value": 75})
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.create_deployment_group(applicationName="app", deploymentGroupName="g", serviceRoleArn=ROLE,
                                           deploymentConfigName="Hosts")
    assert error_code(excinfo) == "InvalidDeploymentConfigNameException"


def test_stop_of_an_unknown_deployment(codedeploy):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.stop_deployment(deploymentId="d-NOTHERE")
    assert error_code(excinfo) == "DeploymentDoesNotExistException"


def test_stop_of_a_server_deployment_record(codedeploy):
    """The local cloud runs ECS deployments only: another platform's deployment is a record, stopped at once."""
    codedeploy.create_application(applicationName="server", computePlatform="Server")
    codedeploy.create_deployment_group(applicationName="server", deploymentGroupName="g", serviceRoleArn=ROLE)
    deployment_id = codedeploy.create_deployment(
        applicationName="server", deploymentGroupName="g",
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "zip"}})["deploymentId"]
    assert codedeploy.stop_deployment(deploymentId=deployment_id)["status"] == "Succeeded"
    assert codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"] == "Stopped"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.stop_deployment(deploymentId=deployment_id)
    assert error_code(excinfo) == "DeploymentAlreadyCompletedException"
