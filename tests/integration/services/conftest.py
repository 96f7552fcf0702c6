"""Fixtures of the Phase 7 suite: the lab's starting point, and stand-ins for what Phases 5 and 6 leave.

Phase 5 (the cluster, the task definitions) and Phase 6 (security group, target group pairs, the load
balancer with its listeners) are made here directly with boto3, the lab's names and values, so that
these tests depend on neither role.
"""

import pytest

from conftest import run_playbook, shown_summary

LAB = "playbooks/lab_environment.yml"
PHASE7 = "playbooks/phase7.yml"
CLUSTER = "microservices-serverlesscluster"


class Lab:
    def __init__(self, cloud):
        self.cloud = cloud
        ec2 = cloud.client("ec2")
        (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["LabVPC"]}])["Vpcs"]
        self.vpc_id = vpc["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["PublicSubnet1", "PublicSubnet2"]}])
        self.subnet_ids = sorted(s["SubnetId"] for s in subnets["Subnets"])
        self.role_arn = cloud.client("iam").get_role(RoleName="PipelineRole")["Role"]["Arn"]
        self.group_id = ec2.create_security_group(GroupName="microservices-sg", Description="microservices",
                                                  VpcId=self.vpc_id)["GroupId"]
        self.target_groups = {}
        self.ecs = cloud.client("ecs")
        self.ecs.create_cluster(clusterName=CLUSTER)

    def register(self, name, port=8080, image=None):
        """A task definition of the family <name>-microservice, as task 5.4 registers it (a release: with the image
        given, <name>@sha256:...); returns its ARN."""
        return self.ecs.register_task_definition(
            family=name + "-microservice", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu="512", memory="1024", executionRoleArn=self.role_arn,
            containerDefinitions=[{"name": name, "image": image or "%s:latest" % name, "essential": True,
                                   "memory": 1024, "portMappings": [{"containerPort": port}]}],
        )["taskDefinition"]["taskDefinitionArn"]

    def target_group_pair(self, name, health="/"):
        """<name>-tg-one and <name>-tg-two as task 6.1 makes them, in load_balancer_target_groups' shape."""
        elbv2 = self.cloud.client("elbv2")
        pair = {}
        for which in ("one", "two"):
            tg = elbv2.create_target_group(
                Name="%s-tg-%s" % (name, which), Protocol="HTTP", Port=8080, VpcId=self.vpc_id,
                TargetType="ip", HealthCheckPath=health)["TargetGroups"][0]
            pair[which] = {"name": tg["TargetGroupName"], "arn": tg["TargetGroupArn"]}
        self.target_groups[name] = pair
        return pair

    def load_balancer(self, first):
        """microservicesLB with HTTP:80 -> <first>-tg-two and HTTP:8080 -> <first>-tg-one (task 6.3)."""
        elbv2 = self.cloud.client("elbv2")
        lb = elbv2.create_load_balancer(Name="microservicesLB", Subnets=self.subnet_ids,
                                        SecurityGroups=[self.group_id], Scheme="internet-facing",
                                        Type="application", IpAddressType="ipv4")["LoadBalancers"][0]
        for port, which in ((80, "two"), (8080, "one")):
            elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                                  DefaultActions=[{"Type": "forward",
                                                   "TargetGroupArn": self.target_groups[first][which]["arn"]}])

    def extra_vars(self, services=None, **extra):
        """phase7.yml's extra vars: the facts of Phases 5 and 6 as they would publish them in the same run."""
        names = [s["name"] for s in services] if services else ["customer", "employee"]
        data = {"fargate_cluster_name": CLUSTER, "load_balancer_security_group_id": self.group_id,
                "load_balancer_target_groups": dict((n, self.target_groups[n]) for n in names if n in self.target_groups)}
        if services:
            data["microservices"] = services
        data.update(extra)
        return data

    def service(self, name):
        found = self.ecs.describe_services(cluster=CLUSTER, services=["%s-microservice" % name])["services"]
        return found[0] if found else None

    def phase7(self, services=None, check=False, diff=False, tags=None, **extra):
        return run_playbook(self.cloud, PHASE7, extra_vars=self.extra_vars(services, **extra),
                            check=check, diff=diff, tags=tags)


@pytest.fixture(scope="module")
def lab7(local_cloud):
    """A clean cloud with the lab's starting point, Phase 5's cluster and task definitions, Phase 6's resources."""
    local_cloud.reset()
    result = run_playbook(local_cloud, LAB, json_output=False)
    assert result.rc == 0, result
    lab = Lab(local_cloud)
    for name, health in (("customer", "/"), ("employee", "/admin/suppliers")):
        lab.register(name)
        lab.target_group_pair(name, health)
    lab.load_balancer("customer")
    return lab


def task_results(result, name_part):
    """Every host result of the tasks whose name contains `name_part`, from the JSON callback."""
    doc = result.data()
    return [task["hosts"]["localhost"] for play in doc["plays"] for task in play["tasks"]
            if name_part in task["task"]["name"] and "localhost" in task["hosts"]]


def summary(result):
    """The facts of the summary of Phase 7 (playbooks/tasks/phase7_summary.yml)."""
    return shown_summary(result, "phase7_summary")
