"""The account after Phases 5 to 8, made with boto3, on a local cloud of its own.

The cloud is started with a short CodeDeploy termination wait
(LOCALCLOUD_CODEDEPLOY_TERMINATION_SECONDS), so a release takes well under a second, and a short
AWS minute for canary and linear traffic shifts (LOCALCLOUD_CODEDEPLOY_MINUTE_SECONDS). The fixture
reuses the Phase 8 tests' account (tests/integration/codedeploy/conftest.py: network, roles, load
balancer, target groups, CODE_DEPLOY services, CodeCommit repository), then adds what Phase 8's
roles make: the CodeDeploy application and groups, the pipelines and their EventBridge rules (from
the collection's own rules in plugins/module_utils/_pipeline.py), and the lab's taskdef and AppSpec
files with their placeholders on dev. As on AWS, CreatePipeline runs each pipeline once: that first
execution deploys the first images (version 1) blue/green, which moves both listeners of each service
to tg-one; the fixture waits for it to end before a test acts.
"""
import hashlib
import importlib
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import LocalCloud, ROOT

from codedeploy.conftest import CLUSTER, make_lab

SERVICES = ("customer", "employee")
APP = "microservices"
PORT = 8080
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def _collection_module(name):
    """A module_utils module of the collection, through the repository's .collections link (it imports _lab)."""
    if os.path.join(ROOT, ".collections") not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, ".collections"))
    return importlib.import_module("ansible_collections.cloudlab.microservices.plugins.module_utils.%s" % name)


PIPELINE = _collection_module("_pipeline")
LAB = _collection_module("_lab")


# Short waits on this cloud: the termination wait, and an AWS minute of a canary or linear traffic shift.
CLOUD_ENV = {"LOCALCLOUD_CODEDEPLOY_TERMINATION_SECONDS": "0.2", "LOCALCLOUD_CODEDEPLOY_MINUTE_SECONDS": "0.3"}


@pytest.fixture(scope="module")
def release_cloud(tmp_path_factory):
    saved = dict((name, os.environ.get(name)) for name in CLOUD_ENV)
    os.environ.update(CLOUD_ENV)
    try:
        cloud = LocalCloud(tmp_path_factory.mktemp("releasecloud")).start()
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
    yield cloud
    cloud.stop()


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


def _phase8(cloud, made):
    codedeploy, pipelines, events = (cloud.client(s) for s in ("codedeploy", "codepipeline", "events"))
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
        name = LAB.pipeline(svc)
        decl = {"name": name, "roleArn": made["roles"]["PipelineRole"], "pipelineType": "V2",
                "executionMode": "SUPERSEDED",
                "artifactStore": {"type": "S3", "location": "codepipeline-us-east-1-123456789012-microservices"},
                "stages": PIPELINE.lab_stages(svc, "deployment", "dev", "latest", APP, "%s-%s" % (APP, svc))}
        pipelines.create_pipeline(pipeline=decl)
        arn = "arn:aws:codepipeline:us-east-1:123456789012:%s" % name
        for rule in PIPELINE.change_detection_rules(decl, arn, made["roles"]["PipelineRole"], "aws", "us-east-1",
                                                    "123456789012"):
            events.put_rule(Name=rule["Name"], EventPattern=json.dumps(rule["EventPattern"]), State="ENABLED",
                            Description=rule["Description"])
            events.put_targets(Rule=rule["Name"], Targets=rule["Targets"])


def first_executions(cloud, services=SERVICES):
    """{service: its pipeline's first execution}, once each has ended: the one CreatePipeline started."""
    caller = cloud.client("sts").get_caller_identity()["Arn"]
    out = {}
    for svc in services:
        execution, summaries = wait_execution(cloud, LAB.pipeline(svc))
        assert len(summaries) == 1, summaries
        assert execution["trigger"] == {"triggerType": "CreatePipeline", "triggerDetail": caller}, execution
        out[svc] = execution
    return out


@pytest.fixture
def lab(fresh_lab):
    """Phases 5 to 8 done: first images as latest, the lab's deployment files on dev, and each pipeline's first
    execution (started by CreatePipeline) ended: version 1 deployed, both listeners on tg-one."""
    made = fresh_lab
    cloud = made["cloud"]
    made["first"] = first_executions(cloud)
    for svc, execution in made["first"].items():
        assert execution["status"] == "Succeeded", execution
        assert dict((r["name"], r["revisionId"]) for r in execution["artifactRevisions"])[
            "image-%s" % svc] == made["digests"][svc]
        assert traffic(cloud, made, svc) == {"production": ["%s-tg-one" % svc], "test": ["%s-tg-one" % svc]}
    return made


def phases5to8(cloud, tmp_path, push_first_image, prepare=None):
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
    _phase8(cloud, made)
    return made


@pytest.fixture
def fresh_lab(release_cloud, tmp_path):
    """Phases 5 to 8 just done: the pipelines' first executions (CreatePipeline's) may still run."""
    cloud = release_cloud
    cloud.reset()
    made = phases5to8(cloud, tmp_path, lambda svc: push_image(cloud, svc, "1"))
    yield made
    # Nothing of this lab may still run when the next test resets the cloud: the newest execution of each pipeline
    # ended means every one before it did (one worker runs them in the order started).
    for svc in SERVICES:
        wait_execution(cloud, LAB.pipeline(svc))


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
