"""The live release tests' helpers (tasks as containers on a Docker engine, listeners on 127.0.0.1): the sample
images pushed through the ECR API, the pipelines' executions, what the listeners answer."""
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request

from examples import build, release_cli

EMPLOYEE = "update-employee-microservice"
CUSTOMER = "update-customer-microservice"


def containers(dockerd, cloud):
    """Ids of the containers the cloud started (labelled with its state dir)."""
    out = subprocess.run(["docker", "ps", "-q", "--filter", "label=localcloud.state-dir=%s" % cloud.state_dir],
                         env=dockerd, capture_output=True, text=True, check=True).stdout
    return out.split()


def settle(dockerd, cloud, expected, timeout=30):
    """The cloud's containers once there are `expected` of them (an ended task set's stop a moment later)."""
    deadline = time.time() + timeout
    found = containers(dockerd, cloud)
    while len(found) != expected and time.time() < deadline:
        time.sleep(0.2)
        found = containers(dockerd, cloud)
    return found


def push_sample(cloud, svc, version, entrypoint=None):
    manifest, blobs = build.sample_image(svc, busybox=shutil.which("busybox"), version=version)
    if entrypoint is not None:
        layers = [blobs[layer["digest"]] for layer in json.loads(manifest)["layers"]]
        manifest, blobs = build.oci_image(layers, svc, entrypoint)
    return release_cli.push(release_cli.Cloud(cloud.endpoint), svc, manifest, blobs)


def ended(cloud, pipeline, count, timeout=90):
    """The newest execution once `count` executions exist and the newest has ended."""
    client = cloud.client("codepipeline")
    deadline = time.time() + timeout
    while time.time() < deadline:
        summaries = client.list_pipeline_executions(pipelineName=pipeline)["pipelineExecutionSummaries"]
        if len(summaries) >= count and all(s["status"] != "InProgress" for s in summaries):
            if not summaries:
                return None
            return client.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=summaries[0][
                "pipelineExecutionId"])["pipelineExecution"]
        time.sleep(0.2)
    raise AssertionError("pipeline %s: execution %d did not end in %ss" % (pipeline, count, timeout))


def count(cloud, pipeline):
    return len(cloud.client("codepipeline").list_pipeline_executions(pipelineName=pipeline)[
        "pipelineExecutionSummaries"])


def listeners(cloud):
    """{listener port: local URL} of microservicesLB."""
    with urllib.request.urlopen(cloud.endpoint + "/_localcloud/listeners", timeout=10) as resp:
        doc = json.loads(resp.read())
    return dict((d["port"], d["url"]) for d in doc["listeners"] if d["loadBalancerName"] == "microservicesLB")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def employee_health_check(made):
    """The lab's health check path of employee's target groups (Phase 6)."""
    for which in ("one", "two"):
        made["cloud"].client("elbv2").modify_target_group(
            TargetGroupArn=made["target_groups"]["employee"][which]["arn"], HealthCheckPath="/admin/suppliers")
