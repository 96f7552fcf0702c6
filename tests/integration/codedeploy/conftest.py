"""What Phase 8 needs from Phases 5 to 7, made with boto3 on the local cloud.

The Phase 6 and 7 roles are built elsewhere at the same time: these tests do not depend on them. The
fixture makes what those phases leave in the account, with the lab's names: the lab network and roles
(LabVPC, PublicSubnet1/2, PipelineRole, DeployRole), target groups <svc>-tg-one/two, the load balancer
microservicesLB with listeners :80 and :8080, a second load balancer (for the "listener of another
load balancer" refusal), the ECS cluster and CODE_DEPLOY services, the ECR repositories, and the
CodeCommit repository deployment with taskdef-<svc>.json and appspec-<svc>.yaml on dev.
"""
import json
import os
import subprocess

import pytest

SERVICES = ("customer", "employee")
ACCOUNT = "123456789012"
CLUSTER = "microservices-serverlesscluster"


def _trust(*services):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}]})


def _push_deployment(cloud, tmp_path, services):
    """Branch dev of CodeCommit repository deployment with each service's taskdef and AppSpec file."""
    cloud.client("codecommit").create_repository(repositoryName="deployment")
    work = tmp_path / "deployment"
    work.mkdir()
    env = dict(cloud.env(), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    for svc in services:
        (work / ("taskdef-%s.json" % svc)).write_text(json.dumps({"family": "%s-microservice" % svc}))
        (work / ("appspec-%s.yaml" % svc)).write_text("version: 0.0\n")
    for args in (["init", "-q", "-b", "dev"], ["add", "."], ["commit", "-q", "-m", "deployment files"],
                 ["push", "-q", "%s/v1/repos/deployment" % cloud.endpoint, "dev"]):
        subprocess.run(["git"] + args, cwd=str(work), env=env, check=True, capture_output=True)


def make_lab(cloud, tmp_path, services=SERVICES):
    ec2, iam, elbv2, ecs, ecr = (cloud.client(s) for s in ("ec2", "iam", "elbv2", "ecs", "ecr"))
    vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "LabVPC"}])
    subnets = []
    for index, zone in enumerate(("us-east-1a", "us-east-1b")):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.16.%d.0/24" % index, AvailabilityZone=zone)["Subnet"]
        ec2.create_tags(Resources=[subnet["SubnetId"]], Tags=[{"Key": "Name", "Value": "PublicSubnet%d" % (index + 1)}])
        subnets.append(subnet["SubnetId"])
    sg = ec2.create_security_group(GroupName="microservices-sg", Description="lb", VpcId=vpc)["GroupId"]
    roles = {}
    for name, trusted in (("PipelineRole", ("codepipeline.amazonaws.com", "ecs-tasks.amazonaws.com",
                                            "codedeploy.amazonaws.com", "events.amazonaws.com")),
                          ("DeployRole", ("codedeploy.amazonaws.com",))):
        roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(*trusted))["Role"]["Arn"]

    def balancer(name):
        return elbv2.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=[sg], Scheme="internet-facing",
                                          Type="application")["LoadBalancers"][0]["LoadBalancerArn"]

    lb = balancer("microservicesLB")
    other_lb = balancer("otherLB")
    target_groups = {}
    for svc in services:
        target_groups[svc] = {}
        for which in ("one", "two"):
            name = "%s-tg-%s" % (svc, which)
            arn = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")[
                "TargetGroups"][0]["TargetGroupArn"]
            target_groups[svc][which] = {"name": name, "arn": arn}
    listeners = {}
    for role, port, which in (("production", 80, "two"), ("test", 8080, "one")):
        first = target_groups[services[0]][which]["arn"]
        listener = elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=port,
                                         DefaultActions=[{"Type": "forward", "TargetGroupArn": first}])
        listeners[role] = listener["Listeners"][0]["ListenerArn"]
        for priority, svc in enumerate(services[1:], start=1):
            elbv2.create_rule(ListenerArn=listeners[role], Priority=priority,
                              Conditions=[{"Field": "path-pattern", "Values": ["/admin/*"]}],
                              Actions=[{"Type": "forward", "TargetGroupArn": target_groups[svc][which]["arn"]}])
    other_listener = elbv2.create_listener(
        LoadBalancerArn=other_lb, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}]
    )["Listeners"][0]["ListenerArn"]
    ecs.create_cluster(clusterName=CLUSTER)
    for svc in services:
        ecr.create_repository(repositoryName=svc)
        ecs.register_task_definition(family="%s-microservice" % svc, networkMode="awsvpc",
                                     requiresCompatibilities=["FARGATE"], cpu="512", memory="1024",
                                     containerDefinitions=[{"name": svc, "image": "%s:latest" % svc,
                                                            "portMappings": [{"containerPort": 8080}]}])
        ecs.create_service(cluster=CLUSTER, serviceName="%s-microservice" % svc,
                           taskDefinition="%s-microservice" % svc, desiredCount=1, launchType="FARGATE",
                           deploymentController={"type": "CODE_DEPLOY"},
                           loadBalancers=[{"targetGroupArn": target_groups[svc]["two"]["arn"],
                                           "containerName": svc, "containerPort": 8080}],
                           networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [sg],
                                                                         "assignPublicIp": "ENABLED"}})
    _push_deployment(cloud, tmp_path, services)
    return {"roles": roles, "listeners": listeners, "other_listener": other_listener, "target_groups": target_groups,
            "vpc": vpc, "subnets": subnets}


@pytest.fixture
def lab(cloud, tmp_path):
    """A clean local cloud holding what Phases 5 to 7 leave, and the extra vars that wire it."""
    made = make_lab(cloud, tmp_path)
    # DeployRole reaches codedeploy_service_role_arn through aws_context, as in the lab.
    # The cluster is made here, not by Phase 5's stack: its name is Phase 5's fact, as site.yml passes it on.
    made["extra_vars"] = {"aws_context_db_instance": "", "fargate_cluster_name": CLUSTER}
    return made


def codedeploy_calls(cloud):
    """Operations of the local cloud's request log, for asserting what a run did."""
    import urllib.request  # pylint: disable=import-outside-toplevel
    with urllib.request.urlopen(cloud.endpoint + "/_localcloud/requests", timeout=10) as answer:
        return json.loads(answer.read())["services"]


PHASE8 = os.path.join("playbooks", "phase8.yml")
DESTROY = os.path.join("playbooks", "destroy.yml")
