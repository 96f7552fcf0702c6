"""Phase 8 modules where the local cloud cannot reach: errors only AWS gives.

Each module's main() runs in process against real botocore clients answered by Stubbers, one per
service (the `stubs` fixture). Retries are botocore's handler's, which a Stubber skips: they are tested
through the local cloud's faults (tests/integration/retry).
"""
import copy

from helpers import run_aws_module

from ansible_collections.cloudlab.microservices.plugins.modules import codedeploy_deployment_group as group_module
from ansible_collections.cloudlab.microservices.plugins.modules import codepipeline_pipeline as pipeline_module
from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline

REGION = "us-east-1"
ACCOUNT = "123456789012"
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/microservicesLB/0a91/%s"
GROUP = {
    "name": "microservices-customer", "service_role_arn": "arn:aws:iam::123456789012:role/DeployRole",
    "cluster": "microservices-serverlesscluster", "service": "customer-microservice",
    "target_groups": ["customer-tg-two", "customer-tg-one"], "production_listener_arn": LISTENER % "80",
    "test_listener_arn": LISTENER % "8080", "deployment_config": "CodeDeployDefault.ECSAllAtOnce",
    "reroute_wait_minutes": 0, "termination_wait_minutes": 5, "auto_rollback_events": ["DEPLOYMENT_FAILURE"],
}


def _aws_group():
    info = dict(_codedeploy.desired_group(GROUP), applicationName="microservices",
                deploymentGroupName=GROUP["name"], deploymentGroupId="0b8c6f2e-1d55-4a55-9f5c-1f4c7b8c9d00",
                computePlatform="ECS")
    # What AWS adds: alarms, triggers, a target revision.
    info.update(alarmConfiguration={"enabled": False, "alarms": []}, triggerConfigurations=[], ec2TagFilters=[])
    return info


def test_group_in_desired_state_changes_nothing(stubs, capsys):
    stubs["codedeploy"].add_response("get_application", {"application": {"applicationName": "microservices"}},
                                     {"applicationName": "microservices"})
    batch = {"applicationName": "microservices", "deploymentGroupNames": [GROUP["name"]]}
    stubs["codedeploy"].add_response("batch_get_deployment_groups", {"deploymentGroupsInfo": [_aws_group()]}, batch)
    result = run_aws_module(group_module.main, dict(application="microservices", deployment_groups=[GROUP],
                                                    validate_references=False), capsys)
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert result["changes"] == {}


def test_service_already_in_another_group_is_reported_with_aws_code(stubs, capsys):
    stubs["codedeploy"].add_response("get_application", {"application": {"applicationName": "microservices"}})
    stubs["codedeploy"].add_response("batch_get_deployment_groups", {"deploymentGroupsInfo": []})
    stubs["codedeploy"].add_client_error(
        "create_deployment_group", service_error_code="ECSServiceMappingLimitExceededException",
        service_message="The ECS service is associated with another deployment group", http_status_code=400)
    result = run_aws_module(group_module.main, dict(application="microservices", deployment_groups=[GROUP],
                                                    validate_references=False), capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to change the deployment groups")
    assert result["error"]["code"] == "ECSServiceMappingLimitExceededException"


def _pipeline_entry():
    return {"name": "update-customer-microservice", "role_arn": "arn:aws:iam::123456789012:role/PipelineRole",
            "artifact_bucket": "codepipeline-us-east-1-123456789012-microservices",
            "stages": _pipeline.lab_stages("customer", "deployment", "dev", "latest", "microservices",
                                           "microservices-customer"),
            "change_detection": False}


def test_pipeline_update_refused_by_aws_fails_naming_the_pipeline(stubs, capsys):
    entry = _pipeline_entry()
    stubs["sts"].add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::%s:user/u" % ACCOUNT,
                                                      "UserId": "u"})
    current = copy.deepcopy(_pipeline.declaration(entry))
    current["stages"][1]["actions"][0]["configuration"]["Image1ContainerName"] = "OTHER"
    current["version"] = 3
    stubs["codepipeline"].add_response("get_pipeline", {"pipeline": current, "metadata": {
        "pipelineArn": "arn:aws:codepipeline:us-east-1:%s:%s" % (ACCOUNT, entry["name"])}})
    stubs["events"].add_response("list_rule_names_by_target", {"RuleNames": []})
    stubs["codepipeline"].add_client_error(
        "update_pipeline", service_error_code="InvalidActionDeclarationException",
        service_message="ActionConfiguration Map value must satisfy constraint", http_status_code=400)
    result = run_aws_module(pipeline_module.main, dict(pipelines=[entry], validate_references=False), capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to update pipeline update-customer-microservice")
    assert result["error"]["code"] == "InvalidActionDeclarationException"


def test_pipeline_unchanged_when_aws_adds_its_defaults(stubs, capsys):
    entry = _pipeline_entry()
    stubs["sts"].add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::%s:user/u" % ACCOUNT,
                                                      "UserId": "u"})
    current = copy.deepcopy(_pipeline.declaration(entry))
    current["version"] = 7
    for stage in current["stages"]:
        for action in stage["actions"]:
            action.setdefault("inputArtifacts", [])
            action.setdefault("outputArtifacts", [])
            action["region"] = REGION
    stubs["codepipeline"].add_response("get_pipeline", {"pipeline": current, "metadata": {
        "pipelineArn": "arn:aws:codepipeline:us-east-1:%s:%s" % (ACCOUNT, entry["name"])}})
    stubs["events"].add_response("list_rule_names_by_target", {"RuleNames": []})
    result = run_aws_module(pipeline_module.main, dict(pipelines=[entry], validate_references=False), capsys)
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert result["pipelines"][entry["name"]]["version"] == 7
