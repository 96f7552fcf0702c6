"""CodeDeploy operations moto lacks, answered by localcloud/patches/fixes/codedeploy.py with AWS's errors."""
import botocore.exceptions
import pytest

from localcloud.testing.wire import error_code

ROLE = "arn:aws:iam::123456789012:role/DeployRole"


@pytest.fixture
def codedeploy(cloud):
    client = cloud.client("codedeploy")
    client.create_application(applicationName="app", computePlatform="ECS",
                              tags=[{"Key": "team", "Value": "a"}])
    client.create_deployment_group(applicationName="app", deploymentGroupName="g", serviceRoleArn=ROLE,
                                   deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
                                   tags=[{"Key": "team", "Value": "a"}])
    return client


def test_update_changes_the_group_in_place_and_renames(codedeploy):
    group_id = codedeploy.get_deployment_group(applicationName="app", deploymentGroupName="g")[
        "deploymentGroupInfo"]["deploymentGroupId"]
    answer = codedeploy.update_deployment_group(
        applicationName="app", currentDeploymentGroupName="g", newDeploymentGroupName="h",
        deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes",
        blueGreenDeploymentConfiguration={"terminateBlueInstancesOnDeploymentSuccess": {
            "action": "TERMINATE", "terminationWaitTimeInMinutes": 9}})
    assert answer["hooksNotCleanedUp"] == []
    info = codedeploy.get_deployment_group(applicationName="app", deploymentGroupName="h")["deploymentGroupInfo"]
    assert info["deploymentGroupId"] == group_id
    assert info["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent5Minutes"
    assert info["blueGreenDeploymentConfiguration"]["terminateBlueInstancesOnDeploymentSuccess"][
        "terminationWaitTimeInMinutes"] == 9
    assert info["serviceRoleArn"] == ROLE  # a field left out of the update is kept


@pytest.mark.parametrize("kwargs, code", [
    (dict(applicationName="nope", currentDeploymentGroupName="g"), "ApplicationDoesNotExistException"),
    (dict(applicationName="app", currentDeploymentGroupName="nope"), "DeploymentGroupDoesNotExistException"),
    (dict(applicationName="app", currentDeploymentGroupName="g", deploymentConfigName="Mine"),
     "DeploymentConfigDoesNotExistException"),
    (dict(applicationName="app", currentDeploymentGroupName="g", deploymentConfigName="CodeDeployDefault.AllAtOnce"),
     "InvalidDeploymentConfigNameException"),
], ids=["application", "group", "unknown-config", "config-of-another-platform"])
def test_update_errors(codedeploy, kwargs, code):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.update_deployment_group(**kwargs)
    assert error_code(excinfo) == code


def test_rename_onto_an_existing_group(codedeploy):
    codedeploy.create_deployment_group(applicationName="app", deploymentGroupName="other", serviceRoleArn=ROLE)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.update_deployment_group(applicationName="app", currentDeploymentGroupName="g",
                                           newDeploymentGroupName="other")
    assert error_code(excinfo) == "DeploymentGroupAlreadyExistsException"


def test_create_checks_the_config_and_defaults_it_per_platform(codedeploy):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.create_deployment_group(applicationName="app", deploymentGroupName="x", serviceRoleArn=ROLE,
                                           deploymentConfigName="CodeDeployDefault.OneAtATime")
    assert error_code(excinfo) == "InvalidDeploymentConfigNameException"
    codedeploy.create_deployment_group(applicationName="app", deploymentGroupName="y", serviceRoleArn=ROLE)
    assert codedeploy.get_deployment_group(applicationName="app", deploymentGroupName="y")[
        "deploymentGroupInfo"]["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    codedeploy.create_application(applicationName="server")
    assert codedeploy.get_application(applicationName="server")["application"]["computePlatform"] == "Server"


def test_batch_get_reports_missing_groups(codedeploy):
    answer = codedeploy.batch_get_deployment_groups(applicationName="app", deploymentGroupNames=["g", "absent"])
    assert [g["deploymentGroupName"] for g in answer["deploymentGroupsInfo"]] == ["g"]
    assert "absent" in answer["errorMessage"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.batch_get_deployment_groups(applicationName="nope", deploymentGroupNames=["g"])
    assert error_code(excinfo) == "ApplicationDoesNotExistException"


def test_delete_group_and_application_are_idempotent_and_take_tags_along(codedeploy):
    group_arn = "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:app/g"
    app_arn = "arn:aws:codedeploy:us-east-1:123456789012:application:app"
    assert codedeploy.delete_deployment_group(applicationName="app", deploymentGroupName="g")["hooksNotCleanedUp"] == []
    assert codedeploy.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == []
    codedeploy.delete_deployment_group(applicationName="app", deploymentGroupName="g")  # gone already: no error
    codedeploy.create_deployment_group(applicationName="app", deploymentGroupName="g2", serviceRoleArn=ROLE)
    codedeploy.delete_application(applicationName="app")
    codedeploy.delete_application(applicationName="app")  # gone already: no error
    assert codedeploy.list_applications()["applications"] == []
    assert codedeploy.list_tags_for_resource(ResourceArn=app_arn)["Tags"] == []
    codedeploy.create_application(applicationName="app", computePlatform="ECS")
    assert codedeploy.list_deployment_groups(applicationName="app")["deploymentGroups"] == []
