"""lab_info run in-process on stubbed reads: the answer tables of a fresh and a converged lab, and the clients
that answer them (fixture ``aws`` of tests/unit/plugins/conftest.py), for the module's tests and the summaries'.

Every call is checked to be a read (Describe / List / Get / BatchGet / Head) and answered from a table; real
botocore clients validate the requests, and nothing leaves the process.
"""
import copy
import json
import re

import boto3

from ansible_collections.amazon.aws.plugins.module_utils import modules as aws_modules
from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecr
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline
from ansible_collections.cloudlab.microservices.plugins.modules import lab_info

from helpers import run_aws_module

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
        ("ecr", "ListTagsForResource"): {"tags": tag_list(_lab.owner_tags("microservices"))},
        ("elbv2", "DescribeTags"): lambda p: {"TagDescriptions": [
            {"ResourceArn": arn, "Tags": tag_list(_lab.owner_tags("microservices", arn.split("/")[1].split("-tg-")[0]
                                                                   if "-tg-" in arn else None))}
            for arn in p["ResourceArns"]]},
        ("codedeploy", "ListTagsForResource"): {"Tags": tag_list(_lab.owner_tags("microservices"))},
        ("codepipeline", "ListTagsForResource"): {"tags": [{"key": k, "value": v} for k, v in
                                                           _lab.owner_tags("microservices").items()]},
        ("events", "ListTagsForResource"): {"Tags": tag_list(_lab.owner_tags("microservices"))},
        ("s3", "GetBucketTagging"): {"TagSet": tag_list(_lab.owner_tags("microservices"))},
    })
    return answers


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


class Status:
    status_code = 200

    def __init__(self, code):
        self.status_code = code
        self.headers = {}


def stubbed_reads(monkeypatch):
    """lab_info's AWS clients answered in-process (the unit tests' fixture `aws`): {calls, answers, writes}.

    calls: [(service, operation)]; answers: {(service, operation): answer}, to fill before the run.

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


def run(aws, answers, capsys, check_mode=False, **args):
    aws["answers"] = answers
    params = dict({"services": SERVICES, "_ansible_check_mode": check_mode}, **args)
    return run_aws_module(lab_info.main, params, capsys)
