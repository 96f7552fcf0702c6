"""Our AWS modules ride out API throttling through AWSRetry.

ECS and ECR answer throttled calls with the error code ThrottlingException.
The local cloud never throttles, so these tests run each module's main() in
process against a real botocore client whose answers come from a Stubber (the
`stubs` fixture): throttled twice, then served. Sleeping is recorded instead of waited.
"""
import hashlib
import json
import os
import sys

import pytest

from conftest import run_aws_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

ecs_taskdef_sync = pytest.importorskip("ansible_collections.cloudlab.microservices.plugins.modules.ecs_taskdef_sync")
ecr_image_push = pytest.importorskip("ansible_collections.cloudlab.microservices.plugins.modules.ecr_image_push")

REGION = "us-east-1"
ACCOUNT = "123456789012"
THROTTLE = dict(service_error_code="ThrottlingException", service_message="Rate exceeded",
                http_status_code=400)
# How many times _aws.RETRY tries a call that is throttled every time (AWSRetry.jittered_backoff's default).
ATTEMPTS = 10


TASKDEF = {
    "family": "customer-microservice",
    "containerDefinitions": [{
        "name": "customer", "image": "<IMAGE1_NAME>", "essential": True,
        "portMappings": [{"containerPort": 8080}],
    }],
    "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "512", "memory": "1024",
    "executionRoleArn": "arn:aws:iam::%s:role/PipelineRole" % ACCOUNT,
}
TASKDEF_ARN = "arn:aws:ecs:%s:%s:task-definition/customer-microservice:1" % (REGION, ACCOUNT)


def test_ecs_taskdef_sync_registers_through_throttling(stubs, capsys, sleeps):
    stubber = stubs["ecs"]
    family = {"taskDefinition": TASKDEF["family"]}
    for _attempt in range(2):
        stubber.add_client_error("describe_task_definition", expected_params=family, **THROTTLE)
    # What ECS answers for a family with no ACTIVE revision: the module reads it as "none yet".
    stubber.add_client_error("describe_task_definition", expected_params=family,
                             service_error_code="ClientException",
                             service_message="Unable to describe task definition.")
    for _attempt in range(2):
        stubber.add_client_error("register_task_definition", expected_params=TASKDEF, **THROTTLE)
    registered = dict(TASKDEF, taskDefinitionArn=TASKDEF_ARN, revision=1, status="ACTIVE")
    stubber.add_response("register_task_definition", {"taskDefinition": registered}, TASKDEF)

    result = run_aws_module(ecs_taskdef_sync.main, {"task_definitions": [TASKDEF]}, capsys)
    assert not result.get("failed"), result.get("msg")

    assert result["changed"] is True
    assert result["arns"] == {TASKDEF["family"]: TASKDEF_ARN}
    assert result["task_definitions"][0]["revision"] == 1
    assert len(sleeps) == 4, "one backoff per throttled call"


def test_ecs_taskdef_sync_gives_up_on_endless_throttling(stubs, capsys, sleeps):
    # Throttled on every attempt, it gives up after ATTEMPTS of them: one attempt more would
    # sleep once more (and find no answer stubbed), one fewer would leave an answer unused,
    # which the stubs fixture fails at teardown.
    for _attempt in range(ATTEMPTS):
        stubs["ecs"].add_client_error("describe_task_definition", **THROTTLE)

    result = run_aws_module(ecs_taskdef_sync.main, {"task_definitions": [TASKDEF]}, capsys)

    assert result["failed"] is True
    assert result["msg"].startswith("Failed to describe task definition family customer-microservice")
    assert result["error"]["code"] == "ThrottlingException"
    assert len(sleeps) == ATTEMPTS - 1, "it retried before giving up, a bounded number of times"


def _blob(folder, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(folder, "blobs", "sha256", digest.split(":", 1)[1])
    with open(path, "wb") as handle:
        handle.write(data)
    return {"digest": digest, "size": len(data)}


@pytest.fixture
def oci_layout(tmp_path):
    """The smallest OCI image layout: one config, one layer, one manifest."""
    folder = str(tmp_path / "customer")
    os.makedirs(os.path.join(folder, "blobs", "sha256"))
    config_data = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}'
    layer_data = b"not really a tarball, but ECR never looks inside"
    config = dict(_blob(folder, config_data), mediaType="application/vnd.oci.image.config.v1+json")
    layer = dict(_blob(folder, layer_data), mediaType="application/vnd.oci.image.layer.v1.tar")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": config, "layers": [layer]}).encode()
    descriptor = dict(_blob(folder, manifest), mediaType="application/vnd.oci.image.manifest.v1+json")
    with open(os.path.join(folder, "oci-layout"), "w") as handle:
        json.dump({"imageLayoutVersion": "1.0.0"}, handle)
    with open(os.path.join(folder, "index.json"), "w") as handle:
        json.dump({"schemaVersion": 2, "manifests": [descriptor]}, handle)
    blobs = {config["digest"]: config, layer["digest"]: layer}
    return dict(path=folder, manifest=manifest, digest=descriptor["digest"], blobs=blobs,
                order=[(config["digest"], config_data), (layer["digest"], layer_data)])


def test_ecr_image_push_uploads_through_throttling(stubs, capsys, sleeps, oci_layout):
    stubber = stubs["ecr"]
    repo = {"repositoryName": "customer"}
    tag_query = dict(repo, imageIds=[{"imageTag": "latest"}], acceptedMediaTypes=ecr_image_push.ACCEPTED_MEDIA_TYPES)
    throttled = 0

    for _attempt in range(2):
        stubber.add_client_error("batch_get_image", expected_params=tag_query, **THROTTLE)
        throttled += 1
    stubber.add_response("batch_get_image", {"images": [], "failures": [{
        "imageId": {"imageTag": "latest"}, "failureCode": "ImageNotFound",
        "failureReason": "Requested image not found"}]}, tag_query)

    check = dict(repo, layerDigests=sorted(oci_layout["blobs"]))
    stubber.add_client_error("batch_check_layer_availability", expected_params=check, **THROTTLE)
    throttled += 1
    stubber.add_response("batch_check_layer_availability", {"layers": [
        {"layerDigest": digest, "layerAvailability": "UNAVAILABLE"} for digest in sorted(oci_layout["blobs"])],
        "failures": []}, check)

    for index, (digest, data) in enumerate(oci_layout["order"]):
        upload_id = "upload-%d" % index
        stubber.add_client_error("initiate_layer_upload", expected_params=repo, **THROTTLE)
        throttled += 1
        stubber.add_response("initiate_layer_upload", {"uploadId": upload_id, "partSize": 10485760}, repo)
        part = dict(repo, uploadId=upload_id, partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data)
        stubber.add_client_error("upload_layer_part", expected_params=part, **THROTTLE)
        throttled += 1
        stubber.add_response("upload_layer_part", dict(repo, uploadId=upload_id, lastByteReceived=len(data) - 1,
                                                       registryId=ACCOUNT), part)
        complete = dict(repo, uploadId=upload_id, layerDigests=[digest])
        stubber.add_response("complete_layer_upload", dict(repo, uploadId=upload_id, layerDigest=digest,
                                                           registryId=ACCOUNT), complete)

    put = dict(repo, imageManifest=oci_layout["manifest"].decode(), imageTag="latest",
               imageManifestMediaType="application/vnd.oci.image.manifest.v1+json",
               imageDigest=oci_layout["digest"])
    for _attempt in range(2):
        stubber.add_client_error("put_image", expected_params=put, **THROTTLE)
        throttled += 1
    stubber.add_response("put_image", {"image": dict(
        repo, registryId=ACCOUNT, imageManifest=oci_layout["manifest"].decode(),
        imageId={"imageDigest": oci_layout["digest"], "imageTag": "latest"})}, put)

    # Then the lab's check: ECR lists the tag with the digest pushed.
    listing = dict(repo, imageIds=[{"imageTag": "latest"}])
    stubber.add_client_error("describe_images", expected_params=listing, **THROTTLE)
    throttled += 1
    stubber.add_response("describe_images", {"imageDetails": [dict(
        repo, registryId=ACCOUNT, imageDigest=oci_layout["digest"], imageTags=["latest"])]}, listing)

    result = run_aws_module(ecr_image_push.main, {"images": [{"repository": "customer",
                                                              "source": oci_layout["path"]}]}, capsys)
    assert not result.get("failed"), result.get("msg")

    assert result["changed"] is True
    assert result["digests"] == result["listed"] == {"customer": oci_layout["digest"]}
    assert result["images"][0]["layers_uploaded"] == [digest for digest, _data in oci_layout["order"]]
    assert result["bytes_sent"] == sum(len(data) for _digest, data in oci_layout["order"])
    assert len(sleeps) == throttled, "one backoff per throttled call"
