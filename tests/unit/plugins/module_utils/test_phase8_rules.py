"""The rules of Phase 8 in module_utils (_codedeploy, _pipeline) and the roles' checks (_checks)."""
import copy

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._checks.codedeploy import check as check_codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils._checks.pipelines import check as check_pipelines

SERVICES = [{"name": "customer"}, {"name": "employee"}]
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/microservicesLB/0a91397ef010d0d0/%s"
CODEDEPLOY = {
    "codedeploy_application_name": "microservices",
    "codedeploy_service_role_arn": "arn:aws:iam::123456789012:role/DeployRole",
    "codedeploy_cluster_name": "microservices-serverlesscluster",
    "codedeploy_service_names": {"customer": "customer-microservice"},
    "codedeploy_target_groups": {},
    "codedeploy_listener_arns": {"production": LISTENER % "ce342d4c43a8e69c", "test": LISTENER % "24cf839d6013e0f4"},
    "codedeploy_deployment_config": "CodeDeployDefault.ECSAllAtOnce",
    "codedeploy_reroute_wait_minutes": 0,
    "codedeploy_termination_wait_minutes": 5,
    "codedeploy_auto_rollback_events": ["DEPLOYMENT_FAILURE"],
    "codedeploy_tags": {},
    "codedeploy_state": "present",
}


def test_role_groups_follow_the_lab():
    groups = _codedeploy.role_groups(SERVICES, dict(CODEDEPLOY, codedeploy_target_groups={
        "employee": {"one": {"name": "e1", "arn": "x"}, "two": {"name": "e2", "arn": "y"}}}))
    customer, employee = groups
    assert customer["name"] == "microservices-customer"
    assert customer["target_groups"] == ["customer-tg-two", "customer-tg-one"]
    assert employee["target_groups"] == ["e2", "e1"]
    assert employee["service"] == "employee-microservice"
    assert customer["production_listener_arn"].endswith("ce342d4c43a8e69c")


def test_group_declaration_compares_with_what_aws_returns():
    desired = _codedeploy.desired_group(_codedeploy.role_groups(SERVICES, CODEDEPLOY)[0])
    returned = copy.deepcopy(desired)
    returned.update(alarmConfiguration={}, triggerConfigurations=[], deploymentGroupId="id")
    returned["autoRollbackConfiguration"]["events"] = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_FAILURE"]
    assert _codedeploy.differences(_codedeploy.normalise_group(returned), desired) == []
    returned["blueGreenDeploymentConfiguration"]["terminateBlueInstancesOnDeploymentSuccess"][
        "terminationWaitTimeInMinutes"] = 6
    returned["deploymentConfigName"] = "CodeDeployDefault.ECSCanary10Percent5Minutes"
    assert _codedeploy.differences(_codedeploy.normalise_group(returned), desired) == [
        "deploymentConfigName", "blueGreenDeploymentConfiguration"]
    assert _codedeploy.differences(None, desired) == list(_codedeploy.MANAGED_FIELDS)


def test_rollback_off_and_reroute_wait():
    group = dict(_codedeploy.role_groups(SERVICES, CODEDEPLOY)[0], auto_rollback_events=[], reroute_wait_minutes=30)
    desired = _codedeploy.desired_group(group)
    assert desired["autoRollbackConfiguration"] == {"enabled": False, "events": []}
    assert desired["blueGreenDeploymentConfiguration"]["deploymentReadyOption"] == {
        "actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 30}
    # AWS keeps the events of a disabled configuration: still "off".
    aws = dict(desired, autoRollbackConfiguration={"enabled": False, "events": ["DEPLOYMENT_FAILURE"]})
    assert _codedeploy.differences(_codedeploy.normalise_group(aws), desired) == []


@pytest.mark.parametrize("change, expected", [
    ({"termination_wait_minutes": 3000}, "termination_wait_minutes 3000: 0 to 2880"),
    ({"deployment_config": "CodeDeployDefault.AllAtOnce"}, "is not an ECS configuration"),
    ({"target_groups": ["a", "a"]}, "two distinct target group names"),
    ({"test_listener_arn": LISTENER % "ce342d4c43a8e69c"}, "are the same listener"),
    ({"name": "bad name"}, "1 to 100 letters"),
])
def test_group_problems(change, expected):
    group = dict(_codedeploy.role_groups(SERVICES, CODEDEPLOY)[0], **change)
    assert any(expected in p for p in _codedeploy.group_problems(group)), _codedeploy.group_problems(group)


def test_listener_arns_by_port():
    info = [{"listeners": [{"port": 80, "listener_arn": "p"}, {"port": 8080, "listener_arn": "t"}]}]
    assert _codedeploy.listener_arns(info, {"production": "80", "test": 8080}) == {"production": "p", "test": "t"}
    assert _codedeploy.listener_arns(info, {"production": 81}) == {}
    assert _codedeploy.listener_arns([], {"production": 80}) == {}


def test_codedeploy_checks_accept_the_lab():
    assert check_codedeploy(CODEDEPLOY, SERVICES) == []
    assert check_codedeploy(dict(CODEDEPLOY, codedeploy_listener_arns={}), SERVICES) == []  # looked up


@pytest.mark.parametrize("change, expected", [
    ({"codedeploy_service_role_arn": ""}, "codedeploy_service_role_arn '' is not an IAM role ARN"),
    ({"codedeploy_listener_arns": {"production": "x", "test": LISTENER % "1"}}, "codedeploy_listener_arns.production"),
    ({"codedeploy_service_names": {"orders": "orders-microservice"}},
     "codedeploy_service_names names orders, not in codedeploy_services"),
    ({"codedeploy_target_groups": {"customer": {"one": {"name": "a"}, "two": {"name": "b"}}}},
     "codedeploy_target_groups has no pair for service employee"),
    ({"codedeploy_termination_wait_minutes": -1}, "codedeploy_termination_wait_minutes -1"),
    ({"codedeploy_application_name": "a b"}, "codedeploy_application_name 'a b'"),
])
def test_codedeploy_checks_refuse(change, expected):
    problems = check_codedeploy(dict(CODEDEPLOY, **change), SERVICES)
    assert any(expected in p for p in problems), problems


def test_codedeploy_checks_for_teardown_need_no_role():
    assert check_codedeploy(dict(CODEDEPLOY, codedeploy_state="absent", codedeploy_service_role_arn=""), SERVICES) == []


PIPELINES = {
    "pipelines_role_arn": "arn:aws:iam::123456789012:role/PipelineRole",
    "pipelines_repository": "deployment", "pipelines_branch": "dev", "pipelines_image_tag": "latest",
    "pipelines_application": "microservices", "pipelines_deployment_groups": {},
    "pipelines_artifact_bucket": "", "pipelines_account_id": "123456789012", "pipelines_region": "us-east-1",
    "pipelines_type": "V2", "pipelines_change_detection": True, "pipelines_events_role_arn": "",
    "pipelines_tags": {}, "pipelines_state": "present",
}


def _entry(service="customer"):
    values = dict(PIPELINES, pipelines_artifact_bucket=_lab.artifact_bucket("us-east-1", "123456789012"))
    return [e for e in _pipeline.role_pipelines(SERVICES, values) if e["name"] == _lab.pipeline(service)][0]


def test_role_pipelines_follow_the_lab():
    entry = _entry("employee")
    assert entry["name"] == "update-employee-microservice"
    assert entry["artifact_bucket"] == "codepipeline-us-east-1-123456789012-microservices"
    deploy = entry["stages"][1]["actions"][0]["configuration"]
    assert deploy["TaskDefinitionTemplatePath"] == "taskdef-employee.json"
    assert deploy["AppSpecTemplatePath"] == "appspec-employee.yaml"
    assert deploy["Image1ArtifactName"] == "image-employee"
    assert deploy["DeploymentGroupName"] == "microservices-employee"


def test_declaration_unchanged_against_what_aws_returns():
    decl = _pipeline.declaration(_entry())
    desired = _pipeline.normalise(decl)
    aws = copy.deepcopy(decl)
    aws["version"] = 4
    for stage in aws["stages"]:
        for action in stage["actions"]:
            action.pop("runOrder")
            action["region"] = "us-east-1"
    aws["stages"][0]["actions"][1]["configuration"]["OutputArtifactFormat"] = "CODE_ZIP"
    assert not _pipeline.differs(_pipeline.normalise(aws), desired)
    aws["stages"][1]["actions"][0]["configuration"]["AppSpecTemplatePath"] = "appspec.yaml"
    assert _pipeline.differs(_pipeline.normalise(aws), desired)
    assert _pipeline.differs(None, desired)


def test_type_and_polling_defaults_are_not_differences_only_when_they_are_the_defaults():
    entry = dict(_entry(), pipeline_type="V1")
    desired = _pipeline.normalise(_pipeline.declaration(entry))
    aws = _pipeline.declaration(entry)
    del aws["pipelineType"]
    assert not _pipeline.differs(_pipeline.normalise(aws), desired)
    aws["stages"][0]["actions"][0]["configuration"]["PollForSourceChanges"] = "true"
    assert _pipeline.differs(_pipeline.normalise(aws), desired)  # we declare "false"


def test_change_detection_rules():
    decl = _pipeline.declaration(_entry())
    rules = _pipeline.change_detection_rules(decl, "arn:p", "arn:r", "aws", "us-east-1", "123456789012")
    assert [r["Name"] for r in rules] == ["update-customer-microservice-source", "update-customer-microservice-image"]
    commit, image = rules
    assert commit["EventPattern"]["resources"] == ["arn:aws:codecommit:us-east-1:123456789012:deployment"]
    assert commit["EventPattern"]["detail"]["referenceName"] == ["dev"]
    assert image["EventPattern"]["detail"]["repository-name"] == ["customer"]
    assert image["EventPattern"]["detail"]["image-tag"] == ["latest"]
    assert commit["Targets"] == [{"Id": "codepipeline", "Arn": "arn:p", "RoleArn": "arn:r"}]
    assert _pipeline.is_ours(commit, "update-customer-microservice")
    assert not _pipeline.is_ours(commit, "update-customer")
    long_name = _lab.event_rule("p" * 80, "Source")
    assert len(long_name) <= 64 and long_name != _lab.event_rule("p" * 81, "Source")


def test_source_files_of_the_deploy_action():
    assert _pipeline.source_files(_pipeline.declaration(_entry())) == [
        ("Deploy", "TaskDefinitionTemplatePath", "deployment", "dev", "taskdef-customer.json"),
        ("Deploy", "AppSpecTemplatePath", "deployment", "dev", "appspec-customer.yaml")]


def test_pipeline_checks():
    assert check_pipelines(PIPELINES, SERVICES) == []
    problems = check_pipelines(dict(PIPELINES, pipelines_role_arn="", pipelines_artifact_bucket="Bad_Bucket",
                                    pipelines_deployment_groups={"customer": "g"}), SERVICES)
    assert any("pipelines_role_arn '' is not an IAM role ARN" in p for p in problems)
    assert any("pipelines_artifact_bucket 'Bad_Bucket'" in p for p in problems)
    assert any("no deployment group for employee" in p for p in problems)
    problems = check_pipelines(dict(PIPELINES, pipelines_account_id=""), SERVICES)
    assert any("pipelines_artifact_bucket is empty" in p for p in problems)
    assert check_pipelines(dict(PIPELINES, pipelines_state="absent", pipelines_role_arn=""), SERVICES) == []


def test_filters_exposed_to_yaml():
    from ansible_collections.cloudlab.microservices.plugins.filter import deploy
    filters = deploy.FilterModule().filters()
    assert filters["codedeploy_group_names"](SERVICES, "microservices") == {
        "customer": "microservices-customer", "employee": "microservices-employee"}
    assert filters["pipeline_names"](SERVICES) == {
        "customer": "update-customer-microservice", "employee": "update-employee-microservice"}
    assert filters["artifact_bucket"]("", "us-east-1", "123456789012") == \
        "codepipeline-us-east-1-123456789012-microservices"
    assert filters["artifact_bucket"]("mine", "us-east-1", "123456789012") == "mine"
    assert [g["name"] for g in filters["codedeploy_groups"](SERVICES, CODEDEPLOY)] == [
        "microservices-customer", "microservices-employee"]
    assert [p["name"] for p in filters["pipeline_entries"](SERVICES, PIPELINES)] == [
        "update-customer-microservice", "update-employee-microservice"]


# ---- inputs that used to pass the checks and then failed or did harm (issue #20) ----------------------
@pytest.mark.parametrize("change, expected", [
    # ECR can never hold this tag: the pipelines and their rules would watch nothing.
    ({"pipelines_image_tag": "bad tag!"}, "pipelines_image_tag 'bad tag!': an ECR image tag is 1 to 128"),
    ({"pipelines_image_tag": ".x"}, "pipelines_image_tag '.x': an ECR image tag"),
    ({"pipelines_branch": "bad..branch"}, "pipelines_branch 'bad..branch' is not a git branch name: it holds '..'"),
    ({"pipelines_branch": "dev.lock"}, "pipelines_branch 'dev.lock' is not a git branch name"),
    ({"pipelines_branch": "-dev"}, "pipelines_branch '-dev' is not a git branch name"),
    ({"pipelines_repository": "a b"}, "pipelines_repository 'a b': a CodeCommit repository name"),
    ({"pipelines_application": "a/b"}, "pipelines_application 'a/b': a CodeDeploy name"),
    ({"pipelines_deployment_groups": {"customer": "a b", "employee": "ok"}},
     "pipelines_deployment_groups.customer 'a b': a CodeDeploy name"),
])
def test_pipeline_inputs_aws_or_git_refuse_are_refused_each_in_one_line(change, expected):
    problems = check_pipelines(dict(PIPELINES, **change), SERVICES)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_an_application_name_too_long_is_one_short_line():
    name = "a" * 120
    problems = check_codedeploy(dict(CODEDEPLOY, codedeploy_application_name=name), SERVICES)
    assert problems == ["codedeploy_application_name %s: a CodeDeploy name is 1 to 100 letters, digits or "
                        "_ . + = , @ -" % _lab.quote(name)]
    assert problems[0].count("a" * 40) == 1 and len(problems[0]) < 200


def test_an_application_name_that_makes_group_names_too_long_is_one_line():
    name = "a" * 95  # fits, but microservices-<service> does not
    problems = check_codedeploy(dict(CODEDEPLOY, codedeploy_application_name=name), SERVICES)
    assert len(problems) == 1 and "with services customer, employee it makes deployment group names" in problems[0]
    problems = check_pipelines(dict(PIPELINES, pipelines_application=name), SERVICES)
    assert len(problems) == 1 and problems[0].startswith("pipelines_application 'aaaa"), problems


def test_derived_pipeline_names_are_checked():
    """A name the service makes: a service list from another source than _services may hold a long name."""
    problems = check_pipelines(PIPELINES, [{"name": "s" * 90}])
    assert problems and problems[0].startswith("pipelines_services: service %s makes the name 'update-sss" % ("s" * 90))
    assert "a CodePipeline pipeline name is 1 to 100" in problems[0]
