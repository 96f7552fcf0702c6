"""Phase 7's tests: stand-ins for what Phases 5 and 6 leave, on the lab environment (tests/conftest.py's `lab`).

Phase 5 (the cluster, the task definitions) and Phase 6 (security group, target group pairs, the load
balancer with its listeners) are made directly with boto3, the lab's names and values, with the boto3 lab's
own steps (localcloud.testing.lab), so that these tests depend on neither role.
"""
from localcloud.testing import lab as boto3_lab
from localcloud.testing.lab import CLUSTER

from helpers import run_playbook

PHASE7 = "playbooks/phase7.yml"


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
        pair = self.target_groups[name] = boto3_lab.target_group_pair(self.cloud.client("elbv2"), self.vpc_id,
                                                                      name, health)
        return pair

    def load_balancer(self, first):
        """microservicesLB with HTTP:80 -> <first>-tg-two and HTTP:8080 -> <first>-tg-one (task 6.3)."""
        elbv2 = self.cloud.client("elbv2")
        lb = boto3_lab.load_balancer(elbv2, "microservicesLB", self.subnet_ids, self.group_id)
        boto3_lab.lab_listeners(elbv2, lb, self.target_groups, [first])

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
