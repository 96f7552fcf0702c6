"""ECR on the local cloud: the layer API's checks, PutImage's digest, and the registry side with docker."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import urllib.request

import botocore.exceptions
import pytest

from localcloud.testing import require_binary
from localcloud.testing.wire import assert_conforms, error_codes, RawCapture

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def ecr(cloud):
    client = cloud.client("ecr")
    client.create_repository(repositoryName="customer")
    return client


def upload(client, data, digest=None, repo="customer", part=4096):
    """Upload `data` in parts through the API; returns CompleteLayerUpload's answer."""
    upload_id = client.initiate_layer_upload(repositoryName=repo)["uploadId"]
    for first in range(0, len(data), part):
        chunk = data[first:first + part]
        client.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=first,
                                 partLastByte=first + len(chunk) - 1, layerPartBlob=chunk)
    return client.complete_layer_upload(repositoryName=repo, uploadId=upload_id,
                                        layerDigests=[digest or sha(data)])


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_for(config, layers):
    return json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_V2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": sha(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": sha(layer)} for layer in layers],
    }, indent=1)


def code_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


def test_layer_upload_with_wrong_digest_refused(ecr):
    data = os.urandom(10000)
    wrong = sha(b"something else")
    assert code_of(lambda: upload(ecr, data, digest=wrong)) == "InvalidLayerException"
    assert "InvalidLayerException" in error_codes("ecr", "CompleteLayerUpload")
    checked = ecr.batch_check_layer_availability(repositoryName="customer", layerDigests=[sha(data), wrong])
    assert checked["layers"] == []
    assert {f["failureCode"] for f in checked["failures"]} == {"MissingLayerDigest"}


def test_layer_upload_kept_and_checked(ecr, cloud):
    data = os.urandom(10000)
    assert upload(ecr, data)["layerDigest"] == sha(data)
    checked = ecr.batch_check_layer_availability(repositoryName="customer", layerDigests=[sha(data)])
    assert [(l["layerDigest"], l["layerAvailability"], l["layerSize"]) for l in checked["layers"]] == [
        (sha(data), "AVAILABLE", len(data))]
    # Another repository does not hold it.
    ecr.create_repository(repositoryName="employee")
    other = ecr.batch_check_layer_availability(repositoryName="employee", layerDigests=[sha(data)])
    assert other["layers"] == [] and other["failures"][0]["failureCode"] == "MissingLayerDigest"
    # Uploading it again is refused as on AWS.
    assert code_of(lambda: upload(ecr, data)) == "LayerAlreadyExistsException"
    url = ecr.get_download_url_for_layer(repositoryName="customer", layerDigest=sha(data))["downloadUrl"]
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == data
    assert code_of(lambda: ecr.get_download_url_for_layer(repositoryName="employee",
                                                          layerDigest=sha(data))) == "LayersNotFoundException"


def test_layer_part_out_of_order_refused(ecr):
    upload_id = ecr.initiate_layer_upload(repositoryName="customer")["uploadId"]
    assert code_of(lambda: ecr.upload_layer_part(
        repositoryName="customer", uploadId=upload_id, partFirstByte=5, partLastByte=9,
        layerPartBlob=b"12345")) == "InvalidLayerPartException"
    assert code_of(lambda: ecr.upload_layer_part(
        repositoryName="customer", uploadId="nope", partFirstByte=0, partLastByte=4,
        layerPartBlob=b"12345")) == "UploadNotFoundException"
    assert code_of(lambda: ecr.initiate_layer_upload(repositoryName="missing")) == "RepositoryNotFoundException"


def test_put_image_missing_layer_refused(ecr):
    config, layer = b'{"architecture": "amd64"}', os.urandom(3000)
    upload(ecr, config)
    manifest = manifest_for(config, [layer])
    assert code_of(lambda: ecr.put_image(repositoryName="customer", imageManifest=manifest,
                                         imageTag="latest")) == "LayersNotFoundException"
    assert "LayersNotFoundException" in error_codes("ecr", "PutImage")
    assert ecr.describe_images(repositoryName="customer")["imageDetails"] == []


def test_put_image_digest_is_sha256_of_manifest(ecr):
    raw = RawCapture(ecr)
    config, layer = b'{"architecture": "amd64"}', os.urandom(3000)
    upload(ecr, config)
    upload(ecr, layer)
    manifest = manifest_for(config, [layer])
    image = ecr.put_image(repositoryName="customer", imageManifest=manifest, imageTag="latest")["image"]
    assert_conforms(raw, "ecr", "PutImage")
    expected = sha(manifest.encode())
    assert image["imageId"] == {"imageDigest": expected, "imageTag": "latest"}
    details = ecr.describe_images(repositoryName="customer", imageIds=[{"imageTag": "latest"}])["imageDetails"]
    assert [d["imageDigest"] for d in details] == [expected]
    got = ecr.batch_get_image(repositoryName="customer", imageIds=[{"imageDigest": expected}])["images"]
    assert got[0]["imageManifest"] == manifest  # byte for byte, so the digest can be recomputed
    assert code_of(lambda: ecr.put_image(repositoryName="customer", imageManifest=manifest,
                                         imageTag="latest")) == "ImageAlreadyExistsException"
    assert code_of(lambda: ecr.put_image(repositoryName="customer", imageManifest=manifest, imageTag="v2",
                                         imageDigest=sha(b"x"))) == "ImageDigestDoesNotMatchException"
    # Same manifest, another tag: one image with both tags.
    ecr.put_image(repositoryName="customer", imageManifest=manifest, imageTag="v1")
    tags = ecr.describe_images(repositoryName="customer")["imageDetails"][0]["imageTags"]
    assert sorted(tags) == ["latest", "v1"]


def test_repository_uri_names_the_registry_side(ecr, cloud):
    status = json.loads(urllib.request.urlopen(cloud.endpoint + "/_localcloud/status").read())
    if not status["registry"]:
        pytest.skip("registry side off: %s" % status["registry_off_reason"])
    repo = ecr.describe_repositories(repositoryNames=["customer"])["repositories"][0]
    assert repo["repositoryUri"] == "%s/customer" % status["registry"]
    auth = ecr.get_authorization_token()["authorizationData"][0]
    assert auth["proxyEndpoint"] == "http://" + status["registry"]
    user, _sep, password = base64.b64decode(auth["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and len(password) >= 20


@pytest.fixture(scope="module")
def docker_env(dockerd):
    """The session's Docker engine (`dockerd` of localcloud.testing)."""
    require_binary("docker-registry")
    require_binary("busybox")
    return dockerd


def busybox_image(docker_env, tmp_path, ref):
    """A tiny image FROM scratch: busybox-static imported as a root file system."""
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    shutil.copy(shutil.which("busybox"), root / "bin" / "busybox")
    os.symlink("busybox", root / "bin" / "sh")
    (root / "stamp").write_text(os.urandom(8).hex())  # a fresh digest per test
    tar = tmp_path / "rootfs.tar"
    with tarfile.open(tar, "w") as archive:
        archive.add(root, arcname=".")
    subprocess.run(["docker", "import", str(tar), ref], env=docker_env, check=True, capture_output=True)


def test_docker_push_seen_by_describe_images(ecr, cloud, docker_env, tmp_path):
    auth = ecr.get_authorization_token()["authorizationData"][0]
    registry = auth["proxyEndpoint"].split("://", 1)[1]
    uri = ecr.describe_repositories(repositoryNames=["customer"])["repositories"][0]["repositoryUri"]
    assert uri == registry + "/customer"
    user, _sep, password = base64.b64decode(auth["authorizationToken"]).decode().partition(":")

    refused = subprocess.run(["docker", "login", "--username", user, "--password-stdin", registry],
                             input="wrong-" + password, env=docker_env, capture_output=True, text=True,
                             check=False)
    assert refused.returncode != 0  # the registry side really checks the password
    login = subprocess.run(["docker", "login", "--username", user, "--password-stdin", registry],
                           input=password, env=docker_env, capture_output=True, text=True, check=False)
    assert login.returncode == 0, login.stderr

    busybox_image(docker_env, tmp_path, uri + ":latest")
    subprocess.run(["docker", "push", uri + ":latest"], env=docker_env, check=True, capture_output=True)
    repo_digests = json.loads(subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", uri + ":latest"],
        env=docker_env, check=True, capture_output=True, text=True).stdout)
    pushed = repo_digests[0].split("@", 1)[1]

    details = ecr.describe_images(repositoryName="customer", imageIds=[{"imageTag": "latest"}])["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in details] == [(pushed, ["latest"])]
    image = ecr.batch_get_image(repositoryName="customer", imageIds=[{"imageTag": "latest"}])["images"][0]
    assert sha(image["imageManifest"].encode()) == pushed
    manifest = json.loads(image["imageManifest"])
    layers = [l["digest"] for l in manifest["layers"]] + [manifest["config"]["digest"]]
    checked = ecr.batch_check_layer_availability(repositoryName="customer", layerDigests=layers)
    assert sorted(l["layerDigest"] for l in checked["layers"]) == sorted(layers)
    url = ecr.get_download_url_for_layer(repositoryName="customer", layerDigest=layers[0])["downloadUrl"]
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert sha(resp.read()) == layers[0]

    # A second push of the same tag with new content moves the tag.
    busybox_image(docker_env, tmp_path / "second", uri + ":latest")
    subprocess.run(["docker", "push", uri + ":latest"], env=docker_env, check=True, capture_output=True)
    details = ecr.describe_images(repositoryName="customer", imageIds=[{"imageTag": "latest"}])["imageDetails"]
    assert len(details) == 1 and details[0]["imageDigest"] != pushed


def test_reset_forgets_layers(ecr, cloud):
    data = os.urandom(500)
    upload(ecr, data)
    cloud.reset()
    client = cloud.client("ecr")
    client.create_repository(repositoryName="customer")
    checked = client.batch_check_layer_availability(repositoryName="customer", layerDigests=[sha(data)])
    assert checked["layers"] == []
