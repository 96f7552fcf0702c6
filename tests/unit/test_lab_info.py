"""lab_info where the local cloud cannot go: every AWS call checked to be a read, and the checklist's rules.

The module's main() runs in process with real botocore clients (request validation included) whose
calls never leave the process: a `before-call` hook records each operation, refuses any that is not a
Describe / List / Get / BatchGet / Head, and answers from a table of a fresh lab (everything missing)
or of a converged one (Phases 5 to 8 done, a deployment in progress). The converged answers are then
bent one way at a time to check what counts as drifted. tests/integration/status runs the same module
against the local cloud.
"""
import copy
import json
import os
import re
import sys

import boto3
import pytest

from conftest import run_aws_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

# Plain imports: these tests must fail, not skip, where the module does not exist.
from ansible_collections.amazon.aws.plugins.module_utils import modules as aws_modules  # noqa: E402
from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy  # noqa: E402
from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecr  # noqa: E402
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab  # noqa: E402
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab_info  # noqa: E402
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline  # noqa: E402
from ansible_collections.cloudlab.microservices.plugins.modules import lab_info  # noqa: E402

ACCOUNT = "123456789012"
READ = re.compile(r"^(Describe|List|Get|BatchGet|Head)")
SERVICES = [{"name": "customer"},
            {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}]
CLUSTER = "microservices-serverlesscluster"
STACK = "Infra-ECS-Cluster-" + CLUSTER
LB = "arn:aws:elasticloadbalancing:us-east-1:%s:loadbalancer/app/microservicesLB/50dc" % ACCOUNT
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:%s:listener/app/microservicesLB/50dc/%%d" % ACCOUNT
DNS = "microservicesLB-1.us-east-1.elb.amazonaws.com"
BUCKET = "codepipeline-us-east-1-%s-microservices" % ACCOUNT
DEPLOY_ROLE = "arn:aws:iam::%s:role/DeployRole" % ACCOUNT


def tg_arn(name):
    return "arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/%s/0a1b" % (ACCOUNT, name)


def health(name):
    return "/admin/suppliers" if name.startswith("employee") else "/"


def error(code, message="not found"):
    return ("error", code, message)


def context_answers():
    """What an AWS Academy account holds before Phase 5 (as lab_context_info reads it)."""
    return {
        ("sts", "GetCallerIdentity"): {"Account": ACCOUNT, "Arn": "arn:aws:sts::%s:assumed-role/voclabs/u" % ACCOUNT},
        ("ec2", "DescribeVpcs"): {"Vpcs": [{"VpcId": "vpc-1", "Tags": [{"Key": "Name", "Value": "LabVPC"}]}]},
        ("ec2", "DescribeSubnets"): {"Subnets": [
            {"SubnetId": "subnet-%d" % i, "Tags": [{"Key": "Name", "Value": "PublicSubnet%d" % i}]} for i in (1, 2)]},
        ("iam", "GetRole"): lambda p: {"Role": {"Arn": "arn:aws:iam::%s:role/%s" % (ACCOUNT, p["RoleName"])}},
        ("rds", "DescribeDBInstances"): error("DBInstanceNotFound"),
        ("ecr", "GetAuthorizationToken"): {"authorizationData": [
            {"proxyEndpoint": "https://%s.dkr.ecr.us-east-1.amazonaws.com" % ACCOUNT}]},
    }


def fresh_answers():
    answers = context_answers()
    answers.update({
        # By name: none; every repository of the account (lab_info's unlisted_repositories): none either.
        ("ecr", "DescribeRepositories"): lambda p: (error("RepositoryNotFoundException") if p.get("repositoryNames")
                                                    else {"repositories": []}),
        ("ecs", "DescribeClusters"): {"clusters": [], "failures": []},
        ("cloudformation", "DescribeStacks"): lambda p: error("ValidationError", "Stack with id %s does not exist"
                                                              % p["StackName"]),
        ("codecommit", "GetRepository"): error("RepositoryDoesNotExistException"),
        ("ecs", "DescribeTaskDefinition"): error("ClientException", "Unable to describe task definition."),
        ("elbv2", "DescribeTargetGroups"): {"TargetGroups": []},
        ("ec2", "DescribeSecurityGroups"): {"SecurityGroups": []},
        ("elbv2", "DescribeLoadBalancers"): error("LoadBalancerNotFound"),
        ("ecs", "DescribeServices"): error("ClusterNotFoundException"),
        ("codedeploy", "GetApplication"): error("ApplicationDoesNotExistException"),
        ("codepipeline", "GetPipeline"): error("PipelineNotFoundException"),
        ("codepipeline", "ListPipelines"): {"pipelines": []},
        ("s3", "HeadBucket"): error("404", "Not Found"),
    })
    return answers


def forward(*weighted):
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": tg_arn(name), "Weight": weight} for name, weight in weighted]}}]


def converged_answers():
    """Phases 5 to 8 done; the first deployment put every service on tg-one; a second one runs for customer."""
    answers = context_answers()
    groups = [{"TargetGroupName": name, "TargetGroupArn": tg_arn(name), "Port": 8080, "Protocol": "HTTP",
               "TargetType": "ip", "VpcId": "vpc-1", "HealthCheckPath": health(name)}
              for svc in ("customer", "employee") for name in ("%s-tg-one" % svc, "%s-tg-two" % svc)]
    files = ["taskdef-customer.json", "appspec-customer.yaml", "taskdef-employee.json", "appspec-employee.yaml"]

    def rules(p):
        port = int(p["ListenerArn"].rsplit("/", 1)[1])
        return {"Rules": [{"RuleArn": p["ListenerArn"] + "/r1", "Priority": "10", "IsDefault": False,
                           "Conditions": [{"Field": "path-pattern", "Values": ["/admin/*"]}],
                           "Actions": forward(("employee-tg-one", 100), ("employee-tg-two", 0))},
                          {"RuleArn": p["ListenerArn"] + "/d", "Priority": "default", "IsDefault": True,
                           "Conditions": [], "Actions": forward(("customer-tg-one", 100))}] if port else []}

    def services(p):
        out = []
        for name in p["services"]:
            svc = name.split("-")[0]
            out.append({"serviceName": name, "serviceArn": "arn:aws:ecs:::service/%s" % name, "status": "ACTIVE",
                        "deploymentController": {"type": "CODE_DEPLOY"}, "launchType": "FARGATE",
                        "schedulingStrategy": "REPLICA", "desiredCount": 1, "runningCount": 1,
                        "taskSets": [{"id": "ecs-svc/1", "status": "PRIMARY", "launchType": "FARGATE",
                                      "taskDefinition": "arn:aws:ecs:us-east-1:%s:task-definition/%s:3" % (ACCOUNT, name),
                                      "loadBalancers": [{"targetGroupArn": tg_arn("%s-tg-one" % svc),
                                                         "containerName": svc, "containerPort": 8080}],
                                      "runningCount": 1, "scale": {"value": 100.0, "unit": "PERCENT"}}]})
        return {"services": out, "failures": []}

    def group(p):
        svc = p["deploymentGroupName"].split("-", 1)[1]
        desired = _codedeploy.role_groups([{"name": svc}], {
            "codedeploy_application_name": "microservices", "codedeploy_service_role_arn": DEPLOY_ROLE,
            "codedeploy_cluster_name": CLUSTER, "codedeploy_listener_arns": {"production": LISTENER % 80,
                                                                             "test": LISTENER % 8080},
            "codedeploy_deployment_config": "CodeDeployDefault.ECSAllAtOnce", "codedeploy_termination_wait_minutes": 5,
        })[0]
        return {"deploymentGroupInfo": dict(_codedeploy.desired_group(desired), applicationName="microservices",
                                            deploymentGroupName=p["deploymentGroupName"], computePlatform="ECS")}

    def pipeline(p):
        svc = p["name"].split("-")[1]
        return {"pipeline": {"name": p["name"], "roleArn": "arn:aws:iam::%s:role/PipelineRole" % ACCOUNT,
                             "artifactStore": {"type": "S3", "location": BUCKET},
                             "stages": _pipeline.lab_stages(svc, "deployment", "dev", "latest", "microservices",
                                                            "microservices-%s" % svc)}}

    def events(p):
        return {"Rules": [{"Name": name, "State": "ENABLED",
                           "Description": "%s %s: the lab's source" % (_pipeline.MARKER, p["NamePrefix"])}
                          for name in _lab.event_rules(p["NamePrefix"])]}

    def file_of(p):
        text = "<IMAGE1_NAME>" if p["filePath"].endswith(".json") else "TaskDefinition: <TASK_DEFINITION>"
        return {"filePath": p["filePath"], "fileContent": text.encode()}

    answers.update({
        ("ecr", "DescribeRepositories"): lambda p: {"repositories": [
            {"repositoryName": name, "repositoryArn": "arn:aws:ecr:us-east-1:%s:repository/%s" % (ACCOUNT, name),
             "repositoryUri": "%s.dkr.ecr.us-east-1.amazonaws.com/%s" % (ACCOUNT, name)}
            for name in p.get("repositoryNames") or ["customer", "employee"]]},
        ("ecr", "DescribeImages"): {"imageDetails": [{"imageDigest": "sha256:0123", "imageTags": ["latest"]}]},
        ("ecr", "GetRepositoryPolicy"): {"policyText": json.dumps(_ecr.account_policy("aws", ACCOUNT))},
        ("ecr", "GetLifecyclePolicy"): {"lifecyclePolicyText": json.dumps(_ecr.lab_lifecycle(10))},
        ("ecs", "DescribeClusters"): {"clusters": [{"clusterName": CLUSTER, "status": "ACTIVE"}], "failures": []},
        ("cloudformation", "DescribeStacks"): lambda p: {"Stacks": [{
            "StackName": STACK, "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": "ClusterArn", "OutputValue": "arn:aws:ecs:::cluster/" + CLUSTER}]}]}
        if p["StackName"] == STACK else error("ValidationError", "Stack with id %s does not exist" % p["StackName"]),
        ("cloudformation", "ListStackResources"): {"StackResourceSummaries": [
            {"ResourceType": "AWS::ECS::Cluster", "PhysicalResourceId": CLUSTER}]},
        ("codecommit", "GetRepository"): {"repositoryMetadata": {
            "repositoryName": "deployment", "cloneUrlHttp": "https://git-codecommit/v1/repos/deployment"}},
        ("codecommit", "GetBranch"): {"branch": {"branchName": "dev", "commitId": "c0ffee"}},
        ("codecommit", "GetFolder"): {"files": [{"absolutePath": f, "relativePath": f} for f in files]},
        ("codecommit", "GetFile"): file_of,
        ("ecs", "DescribeTaskDefinition"): lambda p: {"taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:%s:task-definition/%s:3" % (ACCOUNT, p["taskDefinition"]),
            "revision": 3}},
        ("elbv2", "DescribeTargetGroups"): {"TargetGroups": groups},
        ("ec2", "DescribeSecurityGroups"): {"SecurityGroups": [{
            "GroupId": "sg-1", "GroupName": "microservices-sg",
            "IpPermissions": [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                               "IpRanges": [{"CidrIp": "0.0.0.0/0"}]} for port in (80, 8080)]}]},
        ("elbv2", "DescribeLoadBalancers"): {"LoadBalancers": [{"LoadBalancerArn": LB, "DNSName": DNS,
                                                                "State": {"Code": "active"}}]},
        ("elbv2", "DescribeListeners"): {"Listeners": [
            {"ListenerArn": LISTENER % port, "Port": port, "Protocol": "HTTP",
             "DefaultActions": forward(("customer-tg-one", 100), ("customer-tg-two", 0))} for port in (80, 8080)]},
        ("elbv2", "DescribeRules"): rules,
        ("ecs", "DescribeServices"): services,
        ("codedeploy", "GetApplication"): {"application": {"applicationName": "microservices",
                                                           "computePlatform": "ECS"}},
        ("codedeploy", "GetDeploymentGroup"): group,
        ("codedeploy", "ListDeployments"): lambda p: {
            "deployments": ["d-RUNNING"] if p["deploymentGroupName"] == "microservices-customer" else []},
        ("codedeploy", "GetDeployment"): {"deploymentInfo": {"deploymentId": "d-RUNNING", "status": "InProgress",
                                                             "creator": "CodeDeploy"}},
        ("codepipeline", "GetPipeline"): pipeline,
        # What may belong to services not listed: one list per kind.
        ("ecs", "ListServices"): {"serviceArns": ["arn:aws:ecs:us-east-1:%s:service/%s/%s-microservice"
                                                  % (ACCOUNT, CLUSTER, svc) for svc in ("customer", "employee")]},
        ("codepipeline", "ListPipelines"): {"pipelines": [{"name": "update-%s-microservice" % svc}
                                                          for svc in ("customer", "employee")]},
        ("codedeploy", "ListDeploymentGroups"): {"deploymentGroups": ["microservices-customer",
                                                                      "microservices-employee"]},
        ("events", "ListRules"): events,
        ("codepipeline", "ListPipelineExecutions"): {"pipelineExecutionSummaries": [
            {"pipelineExecutionId": "e-1", "status": "Succeeded"}]},
        ("s3", "HeadBucket"): {},
        # The ownership tags (a service's on its target groups; the others carry the lab's).
        ("ecr", "ListTagsForResource"): {"tags": _tag_list(_lab.owner_tags("microservices"))},
        ("elbv2", "DescribeTags"): lambda p: {"TagDescriptions": [
            {"ResourceArn": arn, "Tags": _tag_list(_lab.owner_tags("microservices", arn.split("/")[1].split("-tg-")[0]
                                                                   if "-tg-" in arn else None))}
            for arn in p["ResourceArns"]]},
        ("codedeploy", "ListTagsForResource"): {"Tags": _tag_list(_lab.owner_tags("microservices"))},
        ("codepipeline", "ListTagsForResource"): {"tags": [{"key": k, "value": v} for k, v in
                                                           _lab.owner_tags("microservices").items()]},
        ("events", "ListTagsForResource"): {"Tags": _tag_list(_lab.owner_tags("microservices"))},
        ("s3", "GetBucketTagging"): {"TagSet": _tag_list(_lab.owner_tags("microservices"))},
    })
    return answers


def _tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


class Status:
    status_code = 200

    def __init__(self, code):
        self.status_code = code
        self.headers = {}


@pytest.fixture
def aws(monkeypatch):
    """calls: [(service, operation)]; answers: {(service, operation): answer}, to fill before the run.

    An answer is a response dict, error(code, message), or a function of the call's parameters giving one.
    Any call that is not a read fails the test; so does a call without an answer.
    """
    state = {"calls": [], "answers": {}, "writes": []}

    def make(*_args, **kwargs):
        service = kwargs["resource"]
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="AKIDTEST",
                              aws_secret_access_key="secret")

        def keep_params(params, context, **_kw):
            context["lab_info_test_params"] = copy.deepcopy(params)

        def answer(model, context, **_kw):
            state["calls"].append((service, model.name))
            if not READ.match(model.name):
                state["writes"].append((service, model.name))
                raise AssertionError("lab_info called %s.%s, which is not a read" % (service, model.name))
            found = state["answers"].get((service, model.name))
            if found is None:
                raise AssertionError("no answer for %s.%s" % (service, model.name))
            if callable(found):
                found = found(context["lab_info_test_params"])
            if isinstance(found, tuple):
                return Status(400), {"Error": {"Code": found[1], "Message": found[2]},
                                     "ResponseMetadata": {"HTTPStatusCode": 400}}
            return Status(200), dict(copy.deepcopy(found), ResponseMetadata={"HTTPStatusCode": 200})

        client.meta.events.register("before-parameter-build.*.*", keep_params)
        client.meta.events.register("before-call.*.*", answer)
        return client

    monkeypatch.setattr(aws_modules, "boto3_conn", make)
    return state


@pytest.fixture(autouse=True)
def no_earlier_warnings(monkeypatch):
    from ansible.module_utils.common import warnings as ansible_warnings
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
    monkeypatch.setattr(ansible_warnings, "_global_deprecations", {})


def run(aws, answers, capsys, check_mode=False, **args):
    aws["answers"] = answers
    params = dict({"services": SERVICES, "_ansible_check_mode": check_mode}, **args)
    return run_aws_module(lab_info.main, params, capsys)


def by_task(result):
    return dict((item["task"], item) for item in result["checklist"])


@pytest.mark.parametrize("check_mode", [False, True])
def test_fresh_lab_reads_only_and_everything_is_missing(aws, capsys, check_mode):
    result = run(aws, fresh_answers(), capsys, check_mode=check_mode)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert aws["writes"] == []
    assert set(aws["calls"]) == set(fresh_answers()), "a read the table does not know, or one not made"
    items = by_task(result)
    assert list(items) == ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "6.1", "6.2", "6.3", "7.1", "7.2", "8.1", "8.2"]
    assert set(i["state"] for i in items.values()) == {"missing"}
    assert items["7.2"]["details"] == ["ECS service employee-microservice is not on cluster %s" % CLUSTER]
    assert result["addresses"] == {} and result["listener_arns"] == {}
    assert result["target_groups"]["customer"] == {"one": None, "two": None}


def test_lab_context_info_is_a_subset(aws, capsys):
    result = run(aws, fresh_answers(), capsys)
    context = ("account_id", "partition", "region", "vpc_id", "subnet_ids", "pipeline_role_arn", "deploy_role_arn",
               "db_host", "registry", "iam_readable")
    assert dict((k, result[k]) for k in context) == {
        "account_id": ACCOUNT, "partition": "aws", "region": "us-east-1", "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-1", "subnet-2"], "pipeline_role_arn": "arn:aws:iam::%s:role/PipelineRole" % ACCOUNT,
        "deploy_role_arn": DEPLOY_ROLE, "db_host": "", "registry": "%s.dkr.ecr.us-east-1.amazonaws.com" % ACCOUNT,
        "iam_readable": True}


def test_converged_lab_reads_only_and_everything_is_done(aws, capsys):
    result = run(aws, converged_answers(), capsys)
    assert not result.get("failed"), result
    assert aws["writes"] == []
    assert set(aws["calls"]) == set(converged_answers())
    assert dict((i["task"], i["details"]) for i in result["checklist"] if i["state"] != "done") == {}
    assert result["live"] == {"customer": {"production": {"customer-tg-one": 100}, "test": {"customer-tg-one": 100}},
                              "employee": {"production": {"employee-tg-one": 100}, "test": {"employee-tg-one": 100}}}
    assert result["addresses"]["employee"] == {"production": "http://%s:80/admin/" % DNS,
                                               "test": "http://%s:8080/admin/" % DNS}
    assert result["ecs_services"]["employee"]["target_group"] == "employee-tg-one"
    assert result["deployments_in_progress"] == [
        {"service": "customer", "id": "d-RUNNING", "status": "InProgress", "creator": "CodeDeploy"}]
    assert "deployment in progress: customer d-RUNNING (InProgress)" in result["report"]
    assert result["listener_arns"] == {"production": LISTENER % 80, "test": LISTENER % 8080}
    assert result["target_groups"]["employee"]["two"]["arn"] == tg_arn("employee-tg-two")
    # The stubbed stack, security group and ECS services carry no tag: lab_info says so, the others are owned.
    owned = result["ownership"]["owned"]
    assert sorted(what for what, yes in owned.items() if not yes) == [
        "ECS service customer-microservice", "ECS service employee-microservice", "security group microservices-sg",
        "stack " + STACK]
    assert owned["target group employee-tg-two"] and owned["pipeline update-customer-microservice"]
    assert result["ownership"]["unlisted_services"] == []


def test_an_owned_service_that_left_the_list_is_named(aws, capsys):
    result = run(aws, converged_answers(), capsys, services=[{"name": "customer"}])
    assert not result.get("failed"), result
    assert result["ownership"]["unlisted_services"] == ["employee"]
    # What a prune may remove: what carries the lab's tags with the service's (here its target groups), its files.
    assert result["ownership"]["unlisted"] == {"employee": {
        "pipeline": "", "event_rules": [], "deployment_group": "", "ecs_service": "",
        "cluster": "microservices-serverlesscluster", "target_groups": ["employee-tg-one", "employee-tg-two"],
        "ecr_repository": "", "files": ["taskdef-employee.json", "appspec-employee.yaml"]}}
    # The stubbed repositories carry the lab's tags but no service's: none is the unlisted employee's.
    assert result["ownership"]["unlisted_repositories"] == []


def test_an_owned_repository_of_a_service_that_left_the_list_is_found(aws, capsys):
    answers = converged_answers()
    answers[("ecr", "ListTagsForResource")] = lambda p: {"tags": _tag_list(_lab.owner_tags(
        "microservices", p["resourceArn"].rsplit("/", 1)[1]))}
    result = run(aws, answers, capsys, services=[{"name": "customer"}])
    assert not result.get("failed"), result
    assert result["ownership"]["unlisted_repositories"] == ["employee"]
    result = run(aws, answers, capsys, services=[{"name": "customer"}], application_name="another")
    assert result["ownership"]["unlisted_repositories"] == []


def _service_tags_on(answers, kind):
    """The converged lab with employee's target groups deleted by hand and its `kind` (ECS service, pipeline or
    deployment group) carrying the lab's and employee's tags; the tag reads are recorded in answers["read"]."""
    answers["read"] = []
    groups = answers[("elbv2", "DescribeTargetGroups")]["TargetGroups"]
    answers[("elbv2", "DescribeTargetGroups")] = {"TargetGroups": [g for g in groups
                                                                   if g["TargetGroupName"].startswith("customer")]}
    mine = _lab.owner_tags("microservices", "employee")
    if kind == "ecs":
        services = answers[("ecs", "DescribeServices")]

        def tagged(p):
            found = services(p)
            answers["read"].append(",".join(p["services"]))
            for svc in found["services"]:
                if svc["serviceName"] == "employee-microservice":
                    svc["tags"] = [{"key": k, "value": v} for k, v in mine.items()]
            return found
        answers[("ecs", "DescribeServices")] = tagged
        answers[("ecs", "ListServices")]["serviceArns"].append("arn:aws:ecs:::service/%s/not-the-labs" % CLUSTER)
    elif kind == "pipeline":
        answers[("codepipeline", "ListPipelines")]["pipelines"].append({"name": "someone-elses"})
        answers[("codepipeline", "ListTagsForResource")] = lambda p: (
            answers["read"].append(p["resourceArn"].rsplit(":", 1)[1]) or {"tags": [
                {"key": k, "value": v} for k, v in (mine if p["resourceArn"].endswith("employee-microservice")
                                                    else _lab.owner_tags("microservices")).items()]})
    else:
        answers[("codedeploy", "ListDeploymentGroups")]["deploymentGroups"].append("another-app-group")
        answers[("codedeploy", "ListTagsForResource")] = lambda p: (
            answers["read"].append(p["ResourceArn"].rsplit(":", 1)[1]) or {"Tags": _tag_list(
                mine if p["ResourceArn"].endswith("/microservices-employee") else _lab.owner_tags("microservices"))})
    return answers


@pytest.mark.parametrize("kind, what, key, name", [
    ("ecs", "ECS service", "ecs_service", "employee-microservice"),
    ("pipeline", "pipeline", "pipeline", "update-employee-microservice"),
    ("codedeploy", "deployment group", "deployment_group", "microservices-employee")])
def test_an_owned_service_whose_target_groups_are_gone_is_named_by_its_other_resources(aws, capsys, kind, what,
                                                                                       key, name):
    answers = _service_tags_on(converged_answers(), kind)
    result = run(aws, answers, capsys, services=[{"name": "customer"}])
    assert not result.get("failed"), result
    assert result["ownership"]["unlisted_services"] == ["employee"]
    assert result["ownership"]["unlisted"]["employee"][key] == name
    assert result["ownership"]["unlisted"]["employee"]["target_groups"] == []
    # One list call per kind; tags read only for what is named as the lab names a service's (never the listed
    # customer's, nor a name of another shape).
    lists = [c for c in aws["calls"] if c[1] in ("ListServices", "ListPipelines", "ListDeploymentGroups")]
    assert sorted(lists) == [("codedeploy", "ListDeploymentGroups"), ("codepipeline", "ListPipelines"),
                             ("ecs", "ListServices")]
    assert not [r for r in answers["read"] if "someone" in r or "another" in r or "not-the-labs" in r]
    if kind == "ecs":  # the listed services' read, then the candidates' (tags come with DescribeServices)
        assert answers["read"][:2] == ["customer-microservice", "employee-microservice"]
    else:
        # customer's once (the read of what is listed), never as a candidate
        assert [r for r in answers["read"] if "employee" in r] and len([r for r in answers["read"] if "customer" in r]) == 1
    # Without the service's tag (another lab's, or none) nothing is named.
    answers = converged_answers()
    answers[("elbv2", "DescribeTargetGroups")] = _service_tags_on(converged_answers(), kind)[
        ("elbv2", "DescribeTargetGroups")]
    assert run(aws, answers, capsys, services=[{"name": "customer"}])["ownership"]["unlisted_services"] == []


def test_what_a_prune_may_remove_is_what_carries_the_labs_and_the_services_tags():
    mine, other_lab = _lab.owner_tags("lab", "supplier"), _lab.owner_tags("other", "supplier")
    tagged = [("pipeline update-supplier-microservice", mine),
              ("EventBridge rule update-supplier-microservice-source", mine),
              ("EventBridge rule update-supplier-microservice-image", mine),
              ("deployment group lab-supplier", mine),
              ("ECS service supplier-microservice", other_lab),  # another lab's: never removed
              ("target group supplier-tg-two", mine), ("target group supplier-tg-one", {"Project": "mine"}),
              ("ECR repository supplier", mine),
              ("target group customer-tg-one", _lab.owner_tags("lab", "customer"))]
    files = {"taskdef-supplier.json": {"exists": True}, "appspec-supplier.yaml": {"exists": False}}
    assert _lab_info.unlisted_resources("lab", ["supplier"], tagged, "c", files) == {"supplier": {
        "pipeline": "update-supplier-microservice",
        "event_rules": ["update-supplier-microservice-image", "update-supplier-microservice-source"],
        "deployment_group": "lab-supplier", "ecs_service": "", "cluster": "c", "target_groups": ["supplier-tg-two"],
        "ecr_repository": "supplier", "files": ["taskdef-supplier.json"]}}


def _bend(answers, key, change):
    """The answer to `key` with `change(response, params)` applied."""
    original = answers[key]

    def bent(params):
        response = copy.deepcopy(original(params) if callable(original) else original)
        change(response, params)
        return response
    answers[key] = bent
    return answers


def _port(response, _params):
    response["TargetGroups"][0]["Port"] = 80


def _family(response, _params):
    for svc in response["services"]:
        svc["taskSets"][0]["taskDefinition"] = "arn:aws:ecs:us-east-1:1:task-definition/other:1"


def _branch(response, _params):
    response["pipeline"]["stages"][0]["actions"][0]["configuration"]["BranchName"] = "main"


def _stack(response, _params):
    if "Stacks" in response:
        response["Stacks"][0]["StackStatus"] = "UPDATE_ROLLBACK_FAILED"


def _rule(response, _params):
    if response["Rules"]:
        response["Rules"][0]["Actions"] = forward(("customer-tg-one", 100))


def _closed(response, _params):
    response["SecurityGroups"][0]["IpPermissions"] = response["SecurityGroups"][0]["IpPermissions"][:1]


def _no_placeholder(response, params):
    if params["filePath"] == "taskdef-customer.json":
        response["fileContent"] = b'{"image": "customer:latest"}'


@pytest.mark.parametrize("key,change,task,detail", [
    (("elbv2", "DescribeTargetGroups"), _port, "6.1", "customer-tg-one port is 80, the inventory asks 8080"),
    (("ecs", "DescribeServices"), _family, "7.1",
     "customer-microservice task definition family is other, the inventory asks customer-microservice"),
    (("codepipeline", "GetPipeline"), _branch, "8.2",
     "update-customer-microservice source is ['deployment@main'], the inventory asks ['deployment@dev']"),
    (("cloudformation", "DescribeStacks"), _stack, "5.2",
     "stack %s is UPDATE_ROLLBACK_FAILED, cluster %s is ACTIVE" % (STACK, CLUSTER)),
    (("elbv2", "DescribeRules"), _rule, "6.3",
     "the production listener sends employee to customer-tg-one, not to its pair employee-tg-one/employee-tg-two"),
    (("ec2", "DescribeSecurityGroups"), _closed, "6.2", "microservices-sg does not open TCP 8080"),
    (("codecommit", "GetFile"), _no_placeholder, "5.6", "taskdef-customer.json has no <IMAGE1_NAME> placeholder"),
])
def test_drift_is_named(aws, capsys, key, change, task, detail):
    result = run(aws, _bend(converged_answers(), key, change), capsys)
    assert not result.get("failed"), result
    items = by_task(result)
    assert items[task]["state"] == "drifted"
    assert detail in items[task]["details"]
    assert "[drifted] %s" % task in "\n".join(result["report"])


def test_another_service_list_is_asked_for(aws, capsys):
    """The checklist follows the inventory's services: a third one makes 7.3 and is missing everywhere."""
    answers = _bend(converged_answers(), ("ecr", "DescribeRepositories"), lambda r, p: None)
    answers[("ecr", "DescribeRepositories")] = lambda p: (
        error("RepositoryNotFoundException") if p.get("repositoryNames") == ["orders"]
        else converged_answers()[("ecr", "DescribeRepositories")](p))
    aws["answers"] = answers
    result = run_aws_module(lab_info.main, {"services": SERVICES + [{"name": "orders", "path_pattern": "/orders/*"}]},
                            capsys)
    items = by_task(result)
    assert items["7.3"]["title"] == "ECS service orders-microservice"
    assert "ECR repository orders does not exist" in items["5.1"]["details"]
    assert "target group orders-tg-one does not exist" in items["6.1"]["details"]


def test_bad_service_list_is_refused_before_any_call(aws, capsys):
    result = run(aws, {}, capsys, services=[{"name": "Customer"}])
    assert result["failed"] and "services[0]" in result["msg"]
    assert aws["calls"] == []


def test_local_cloud_addresses_win_over_the_dns_name():
    services = [{"name": "customer", "path_pattern": ""}, {"name": "employee", "path_pattern": "/admin/*"}]
    listeners = [{"ListenerArn": "L80", "Port": 80}, {"ListenerArn": "L8080", "Port": 8080}]
    out = _lab_info.addresses(services, {"DNSName": DNS}, listeners, {"production": 80, "test": 8080},
                              {"L80": "http://127.0.0.1:41234"})
    assert out == {"customer": {"production": "http://127.0.0.1:41234/", "test": "http://%s:8080/" % DNS},
                   "employee": {"production": "http://127.0.0.1:41234/admin/", "test": "http://%s:8080/admin/" % DNS}}


def test_a_traffic_shift_shows_both_groups():
    services = [{"name": "customer", "path_pattern": ""}]
    listeners = [{"ListenerArn": "L80", "Port": 80,
                  "DefaultActions": forward(("customer-tg-one", 90), ("customer-tg-two", 10))}]
    names = dict((tg_arn(n), n) for n in ("customer-tg-one", "customer-tg-two"))
    assert _lab_info.live(services, listeners, {"production": 80, "test": 8080}, names) == {
        "customer": {"production": {"customer-tg-one": 90, "customer-tg-two": 10}, "test": None}}


def test_the_json_of_the_result_is_plain_data(aws, capsys):
    result = run(aws, converged_answers(), capsys)
    assert json.loads(json.dumps(result)) == result


LIMITED = [SERVICES[0], dict(SERVICES[1], source_cidrs=["203.0.113.7/32"])]


def _source_limited(response, _params):
    if response["Rules"]:
        response["Rules"][0]["Conditions"].append(
            {"Field": "source-ip", "SourceIpConfig": {"Values": ["203.0.113.7/32"]}})


def test_a_missing_source_condition_is_drift(aws, capsys):
    """9.1: source_cidrs asks a condition the admin rules do not have."""
    result = run(aws, converged_answers(), capsys, services=LIMITED)
    assert not result.get("failed"), result
    item = by_task(result)["6.3"]
    assert item["state"] == "drifted"
    assert "the production listener's rule /admin/* lets every address through, the inventory asks source_cidrs " \
           "203.0.113.7/32" in item["details"]
    assert result["sources"]["employee"] == {"production": [], "test": []}


def test_a_converged_source_condition_is_done(aws, capsys):
    answers = _bend(converged_answers(), ("elbv2", "DescribeRules"), _source_limited)
    result = run(aws, answers, capsys, services=LIMITED)
    assert by_task(result)["6.3"]["state"] == "done", by_task(result)["6.3"]
    assert result["sources"]["employee"] == {"production": ["203.0.113.7/32"], "test": ["203.0.113.7/32"]}
    assert result["sources"]["customer"] == {"production": [], "test": []}
    other = run(aws, answers, capsys, services=[SERVICES[0], dict(SERVICES[1], source_cidrs=["198.51.100.0/24"])])
    assert "the test listener's rule /admin/* lets 203.0.113.7/32 through, the inventory asks source_cidrs " \
           "198.51.100.0/24" in by_task(other)["6.3"]["details"]


def test_phase9_tasks_are_listed_where_the_services_ask_them(aws, capsys):
    """9.1 and 9.4 (playbooks/phase9.yml's settings on the list): drifted until the rules carry the sources and the
    service its count; absent from the checklist when no service asks them (test_converged_lab...)."""
    scaled = [dict(SERVICES[0], desired_count=3), LIMITED[1]]
    result = run(aws, converged_answers(), capsys, services=scaled)
    items = by_task(result)
    assert list(items)[-2:] == ["9.1", "9.4"]
    assert items["9.1"]["title"] == "/admin/* limited to 203.0.113.7/32"
    assert items["9.1"]["state"] == "drifted" and items["9.1"]["details"] == [
        "the production listener's rule /admin/* lets every address through, not only 203.0.113.7/32",
        "the test listener's rule /admin/* lets every address through, not only 203.0.113.7/32"]
    assert items["9.4"]["title"] == "ECS service customer-microservice scaled to 3"
    assert items["9.4"]["state"] == "drifted"
    assert items["9.4"]["details"] == ["customer-microservice desired count is 1, the inventory asks 3"]
    answers = _bend(converged_answers(), ("elbv2", "DescribeRules"), _source_limited)
    done = by_task(run(aws, answers, capsys, services=[dict(SERVICES[0], desired_count=1), LIMITED[1]]))
    assert (done["9.1"]["state"], done["9.4"]["state"]) == ("done", "done")
