"""The lab's account after Phases 5 to 8, made with boto3 on a local cloud (no playbook, no Docker).

`make_lab` makes what Phases 5 to 7 leave, with the lab's names: the lab network and roles (LabVPC,
PublicSubnet1/2, PipelineRole, DeployRole), target groups <svc>-tg-one/two, the load balancer microservicesLB
with listeners :80 and :8080, a second load balancer (for the "listener of another load balancer" refusals),
the ECS cluster and CODE_DEPLOY services, the ECR repositories, and the CodeCommit repository deployment
with taskdef-<svc>.json and appspec-<svc>.yaml on dev.

`phases5to8` adds what Phase 8 makes: the CodeDeploy application and groups, the pipelines and their
EventBridge rules (declared by a `pipelines` object: `LabPipelines` here, or the caller's own, such as the
collection's rules), and the lab's taskdef and AppSpec files with their placeholders on dev. As on AWS,
CreatePipeline runs each pipeline once: that first execution deploys the first images (version 1)
blue/green, which moves both listeners of each service to tg-one.
"""
import hashlib
import json
import subprocess
import time

SERVICES = ("customer", "employee")
ACCOUNT = "123456789012"
CLUSTER = "microservices-serverlesscluster"
APP = "microservices"
PORT = 8080
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


class LabPipelines:
    """The lab's pipeline of a service as the lab guide builds it (Phase 8): its name, its stages (CodeCommit
    and ECR sources, a CodeDeployToECS deploy) and the EventBridge rules that start it on a change."""

    @staticmethod
    def name(svc):
        return "update-%s-microservice" % svc

    @staticmethod
    def stages(svc, repository, branch, tag, application, group):
        def action(name, category, provider, configuration, outputs=(), inputs=()):
            return {"name": name, "runOrder": 1, "configuration": configuration,
                    "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"},
                    "outputArtifacts": [{"name": n} for n in outputs], "inputArtifacts": [{"name": n} for n in inputs]}
        image = "image-%s" % svc
        deploy = {"ApplicationName": application, "DeploymentGroupName": group,
                  "TaskDefinitionTemplateArtifact": "SourceArtifact",
                  "TaskDefinitionTemplatePath": "taskdef-%s.json" % svc,
                  "AppSpecTemplateArtifact": "SourceArtifact", "AppSpecTemplatePath": "appspec-%s.yaml" % svc,
                  "Image1ArtifactName": image, "Image1ContainerName": "IMAGE1_NAME"}
        return [{"name": "Source", "actions": [
                    action("Source", "Source", "CodeCommit", {"RepositoryName": repository, "BranchName": branch,
                                                              "PollForSourceChanges": "false"}, ["SourceArtifact"]),
                    action("Image", "Source", "ECR", {"RepositoryName": svc, "ImageTag": tag}, [image])]},
                {"name": "Deploy", "actions": [
                    action("Deploy", "Deploy", "CodeDeployToECS", deploy, inputs=["SourceArtifact", image])]}]

    @staticmethod
    def rules(decl, pipeline_arn, role_arn, partition, region, account):
        sources = dict((a["actionTypeId"]["provider"], a["configuration"]) for a in decl["stages"][0]["actions"])
        commit, image = sources["CodeCommit"], sources["ECR"]
        patterns = {
            "commit": {"source": ["aws.codecommit"], "detail-type": ["CodeCommit Repository State Change"],
                       "resources": ["arn:%s:codecommit:%s:%s:%s" % (
                           partition, region, account, commit["RepositoryName"])],
                       "detail": {"event": ["referenceCreated", "referenceUpdated"], "referenceType": ["branch"],
                                  "referenceName": [commit["BranchName"]]}},
            "image": {"source": ["aws.ecr"], "detail-type": ["ECR Image Action"],
                      "detail": {"action-type": ["PUSH"], "image-tag": [image["ImageTag"]],
                                 "repository-name": [image["RepositoryName"]], "result": ["SUCCESS"]}},
        }
        return [{"Name": "%s-%s" % (decl["name"], what), "Description": "%s on %s" % (decl["name"], what),
                 "EventPattern": pattern, "Targets": [{"Id": "codepipeline", "Arn": pipeline_arn, "RoleArn": role_arn}]}
                for what, pattern in patterns.items()]


def _trust(*services):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}]})


def _push_deployment(cloud, tmp_path, services):
    """Branch dev of CodeCommit repository deployment with each service's taskdef and AppSpec file."""
    files = {}
    for svc in services:
        files["taskdef-%s.json" % svc] = json.dumps({"family": "%s-microservice" % svc})
        files["appspec-%s.yaml" % svc] = "version: 0.0\n"
    Deployment.create(cloud, tmp_path / "deployment").push(files, "deployment files")


def target_group_pair(elbv2, vpc, svc, health_check_path="/"):
    """<svc>-tg-one and <svc>-tg-two as the lab's task 6.1 makes them: {"one": {"name", "arn"}, "two": {...}}."""
    pair = {}
    for which in ("one", "two"):
        group = elbv2.create_target_group(Name="%s-tg-%s" % (svc, which), Protocol="HTTP", Port=PORT, VpcId=vpc,
                                          TargetType="ip", HealthCheckPath=health_check_path)["TargetGroups"][0]
        pair[which] = {"name": group["TargetGroupName"], "arn": group["TargetGroupArn"]}
    return pair


def load_balancer(elbv2, name, subnets, security_group):
    """An internet-facing Application Load Balancer (task 6.3's microservicesLB); its ARN."""
    return elbv2.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=[security_group],
                                      Scheme="internet-facing", Type="application",
                                      IpAddressType="ipv4")["LoadBalancers"][0]["LoadBalancerArn"]


def lab_listeners(elbv2, lb, target_groups, services):
    """HTTP:80 (production) to the first service's tg-two and HTTP:8080 (test) to its tg-one, each with an
    /admin/* rule to the same group of every other service (task 6.3); {"production": ARN, "test": ARN}."""
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
    return listeners


def make_lab(cloud, tmp_path, services=SERVICES):
    """What Phases 5 to 7 leave in the account of `cloud` (see the module's docstring); the ARNs and ids made."""
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

    lb = load_balancer(elbv2, "microservicesLB", subnets, sg)
    other_lb = load_balancer(elbv2, "otherLB", subnets, sg)
    target_groups = dict((svc, target_group_pair(elbv2, vpc, svc)) for svc in services)
    listeners = lab_listeners(elbv2, lb, target_groups, services)
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


def taskdef(svc, image="<IMAGE1_NAME>"):
    return {"family": "%s-microservice" % svc, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": "512", "memory": "1024",
            "containerDefinitions": [{"name": svc, "image": image, "essential": True,
                                      "portMappings": [{"containerPort": PORT, "hostPort": PORT}]}]}


def appspec(container):
    return ("version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n"
            "        TaskDefinition: <TASK_DEFINITION>\n        LoadBalancerInfo:\n"
            "          ContainerName: \"%s\"\n          ContainerPort: %d\n" % (container, PORT))


class Deployment:
    """A clone of CodeCommit repository deployment: commit and push files to dev."""

    def __init__(self, cloud, work):
        self.cloud, self.work = cloud, work
        self.env = dict(cloud.env(), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
                        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")

    @classmethod
    def create(cls, cloud, work):
        """CodeCommit repository deployment, new, and a repository in `work` (made here) on branch dev whose
        origin it is; nothing committed yet."""
        cloud.client("codecommit").create_repository(repositoryName="deployment")
        work.mkdir()
        repo = cls(cloud, work)
        repo.git("init", "-q", "-b", "dev")
        repo.git("remote", "add", "origin", "%s/v1/repos/deployment" % cloud.endpoint)
        return repo

    def git(self, *args):
        return subprocess.run(["git"] + list(args), cwd=str(self.work), env=self.env, check=True,
                              capture_output=True, text=True).stdout.strip()

    def push(self, files, message):
        for name, text in files.items():
            (self.work / name).write_text(text)
        self.git("add", ".")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", "dev")
        return self.git("rev-parse", "HEAD")


def push_image(cloud, repo, version):
    """A small image pushed through the ECR API as `latest`; returns its digest."""
    ecr = cloud.client("ecr")
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"version": version}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = ("%s %s" % (repo, version)).encode()
    for blob in (config, layer):
        upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
        ecr.upload_layer_part(repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=len(blob) - 1,
                              layerPartBlob=blob)
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload,
                                  layerDigests=["sha256:" + hashlib.sha256(blob).hexdigest()])
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_V2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": "sha256:" + hashlib.sha256(layer).hexdigest()}]})
    image = ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="latest")["image"]
    return image["imageId"]["imageDigest"]


def _phase8(cloud, made, pipelines):
    codedeploy, codepipeline, events = (cloud.client(s) for s in ("codedeploy", "codepipeline", "events"))
    cloud.client("s3").create_bucket(Bucket="codepipeline-us-east-1-123456789012-microservices")
    codedeploy.create_application(applicationName=APP, computePlatform="ECS")
    for svc in SERVICES:
        groups = made["target_groups"][svc]
        codedeploy.create_deployment_group(
            applicationName=APP, deploymentGroupName="%s-%s" % (APP, svc), serviceRoleArn=made["roles"]["DeployRole"],
            deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            blueGreenDeploymentConfiguration={
                "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5},
                "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"}},
            ecsServices=[{"serviceName": "%s-microservice" % svc, "clusterName": CLUSTER}],
            loadBalancerInfo={"targetGroupPairInfoList": [{
                "targetGroups": [{"name": groups["two"]["name"]}, {"name": groups["one"]["name"]}],
                "prodTrafficRoute": {"listenerArns": [made["listeners"]["production"]]},
                "testTrafficRoute": {"listenerArns": [made["listeners"]["test"]]}}]})
        name = pipelines.name(svc)
        decl = {"name": name, "roleArn": made["roles"]["PipelineRole"], "pipelineType": "V2",
                "executionMode": "SUPERSEDED",
                "artifactStore": {"type": "S3", "location": "codepipeline-us-east-1-123456789012-microservices"},
                "stages": pipelines.stages(svc, "deployment", "dev", "latest", APP, "%s-%s" % (APP, svc))}
        codepipeline.create_pipeline(pipeline=decl)
        arn = "arn:aws:codepipeline:us-east-1:123456789012:%s" % name
        for rule in pipelines.rules(decl, arn, made["roles"]["PipelineRole"], "aws", "us-east-1", ACCOUNT):
            events.put_rule(Name=rule["Name"], EventPattern=json.dumps(rule["EventPattern"]), State="ENABLED",
                            Description=rule["Description"])
            events.put_targets(Rule=rule["Name"], Targets=rule["Targets"])


def first_executions(cloud, pipelines, services=SERVICES):
    """{service: its pipeline's first execution}, once each has ended: the one CreatePipeline started."""
    caller = cloud.client("sts").get_caller_identity()["Arn"]
    out = {}
    for svc in services:
        execution, summaries = wait_execution(cloud, pipelines.name(svc))
        assert len(summaries) == 1, summaries
        assert execution["trigger"] == {"triggerType": "CreatePipeline", "triggerDetail": caller}, execution
        out[svc] = execution
    return out


def phases5to8(cloud, tmp_path, push_first_image, pipelines, prepare=None):
    """The account after Phases 5 to 8 on `cloud` (reset by the caller); the first images by `push_first_image(svc)`.

    `prepare(made)` runs before Phase 8 (whose pipelines start their first executions at once).
    """
    made = make_lab(cloud, tmp_path, SERVICES)
    made["cloud"] = cloud
    made["digests"] = dict((svc, push_first_image(svc)) for svc in SERVICES)
    work = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "dev", "%s/v1/repos/deployment" % cloud.endpoint, str(work)],
                   env=cloud.env(), check=True, capture_output=True)
    made["deployment"] = Deployment(cloud, work)
    files = {}
    for svc in SERVICES:
        files["taskdef-%s.json" % svc] = json.dumps(taskdef(svc), indent=2)
        files["appspec-%s.yaml" % svc] = appspec(svc)
    made["deployment"].push(files, "lab deployment files")
    if prepare is not None:
        prepare(made)
    _phase8(cloud, made, pipelines)
    return made


def wait_execution(cloud, pipeline, count=1, timeout=20):
    """The newest of the first `count` executions of `pipeline`, once it has ended (polled, not timed)."""
    client = cloud.client("codepipeline")
    deadline = time.time() + timeout
    while time.time() < deadline:
        summaries = client.list_pipeline_executions(pipelineName=pipeline)["pipelineExecutionSummaries"]
        if len(summaries) >= count and summaries[0]["status"] != "InProgress":
            return client.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=summaries[0][
                "pipelineExecutionId"])["pipelineExecution"], summaries
        time.sleep(0.1)
    raise AssertionError("pipeline %s: no ended execution number %d in %ss" % (pipeline, count, timeout))


def forwarded(action):
    """Target group ARNs a forward action sends traffic to (weight 0 in a ForwardConfig sends none)."""
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
    if groups:
        return [g["TargetGroupArn"] for g in groups if g.get("Weight", 1)]
    return [action["TargetGroupArn"]] if action.get("TargetGroupArn") else []


def traffic(cloud, made, svc):
    """{listener role: target group names the listener forwards this service's paths to}."""
    elbv2 = cloud.client("elbv2")
    arns = dict((made["target_groups"][svc][w]["arn"], made["target_groups"][svc][w]["name"]) for w in ("one", "two"))
    out = {}
    for role, listener in made["listeners"].items():
        names = set()
        for rule in elbv2.describe_rules(ListenerArn=listener)["Rules"]:
            for action in rule["Actions"]:
                names.update(arns[arn] for arn in forwarded(action) if arn in arns)
        out[role] = sorted(names)
    return out
