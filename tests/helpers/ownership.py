"""What the collection made carries its ownership tags: read back from the cloud, resource kind by kind.

``missing(cloud, services, kinds)`` gives one line per resource of the lab that lacks a tag the lab model
(plugins/module_utils/_lab.py, ``owner_tags``) says it must carry, read with boto3 the way AWS answers.
"""
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab as LAB

KINDS = ("stack", "ecr", "target_groups", "load_balancer", "security_group", "ecs_services", "codedeploy_application",
         "deployment_groups", "pipelines", "event_rules", "bucket")


def _dict(tags, key="Key", value="Value"):
    return dict((t[key], t[value]) for t in tags or [])


def read(cloud, services, kinds=KINDS, lab=LAB.APPLICATION, cluster="microservices-serverlesscluster",
         bucket="codepipeline-us-east-1-123456789012-microservices", security_group="microservices-sg",
         load_balancer="microservicesLB"):
    """[(resource, its tags, the tags it must carry)] of each kind asked."""
    out = []
    names = LAB.model([{"name": s} for s in services], {"application": lab, "cluster": cluster})
    account = "123456789012"
    if "stack" in kinds:
        stack = cloud.client("cloudformation").describe_stacks(StackName=names["stacks"][0])["Stacks"][0]
        out.append(("stack " + stack["StackName"], _dict(stack.get("Tags")), LAB.owner_tags(lab)))
    if "ecr" in kinds:
        ecr = cloud.client("ecr")
        for svc in services:
            arn = ecr.describe_repositories(repositoryNames=[svc])["repositories"][0]["repositoryArn"]
            out.append(("ECR repository " + svc, _dict(ecr.list_tags_for_resource(resourceArn=arn)["tags"]),
                        LAB.owner_tags(lab, svc)))
    elb = cloud.client("elbv2")
    if "target_groups" in kinds:
        for svc in services:
            for name in names["services"][svc]["target_groups"].values():
                arn = elb.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
                tags = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
                out.append(("target group " + name, _dict(tags), LAB.owner_tags(lab, svc)))
    if "load_balancer" in kinds:
        arn = elb.describe_load_balancers(Names=[load_balancer])["LoadBalancers"][0]["LoadBalancerArn"]
        tags = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
        out.append(("load balancer " + load_balancer, _dict(tags), LAB.owner_tags(lab)))
    if "security_group" in kinds:
        group = cloud.client("ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [security_group]}])["SecurityGroups"][0]
        out.append(("security group " + security_group, _dict(group.get("Tags")), LAB.owner_tags(lab)))
    if "ecs_services" in kinds:
        found = cloud.client("ecs").describe_services(
            cluster=cluster, services=[names["services"][s]["ecs_service"] for s in services], include=["TAGS"])
        for svc in found["services"]:
            service = [s for s in services if names["services"][s]["ecs_service"] == svc["serviceName"]][0]
            out.append(("ECS service " + svc["serviceName"], _dict(svc.get("tags"), "key", "value"),
                        LAB.owner_tags(lab, service)))
    codedeploy = cloud.client("codedeploy")
    if "codedeploy_application" in kinds:
        arn = "arn:aws:codedeploy:us-east-1:%s:application:%s" % (account, lab)
        out.append(("CodeDeploy application " + lab, _dict(codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"]),
                    LAB.owner_tags(lab)))
    if "deployment_groups" in kinds:
        for svc in services:
            name = names["services"][svc]["deployment_group"]
            arn = "arn:aws:codedeploy:us-east-1:%s:deploymentgroup:%s/%s" % (account, lab, name)
            out.append(("deployment group " + name, _dict(codedeploy.list_tags_for_resource(ResourceArn=arn)["Tags"]),
                        LAB.owner_tags(lab, svc)))
    if "pipelines" in kinds:
        pipelines = cloud.client("codepipeline")
        for svc in services:
            name = names["services"][svc]["pipeline"]
            arn = "arn:aws:codepipeline:us-east-1:%s:%s" % (account, name)
            out.append(("pipeline " + name, _dict(pipelines.list_tags_for_resource(resourceArn=arn)["tags"], "key",
                                                  "value"), LAB.owner_tags(lab, svc)))
    if "event_rules" in kinds:
        events = cloud.client("events")
        for svc in services:
            for rule in names["services"][svc]["event_rules"]:
                arn = events.describe_rule(Name=rule)["Arn"]
                out.append(("EventBridge rule " + rule, _dict(events.list_tags_for_resource(ResourceARN=arn)["Tags"]),
                            LAB.owner_tags(lab, svc)))
    if "bucket" in kinds:
        tags = cloud.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
        out.append(("bucket " + bucket, _dict(tags), LAB.owner_tags(lab)))
    return out


def missing(cloud, services, kinds=KINDS, **names):
    """One line per resource that lacks (or carries another value of) an ownership tag."""
    return ["%s: has %s, lacks %s" % (what, sorted(k for k in have if k.startswith(LAB.TAG_PREFIX)),
                                      dict((k, v) for k, v in want.items() if have.get(k) != v))
            for what, have, want in read(cloud, services, kinds, **names)
            if any(have.get(k) != v for k, v in want.items())]
