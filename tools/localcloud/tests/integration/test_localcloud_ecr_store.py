"""ECR on the local cloud: one image store behind the ECR API and the registry side.

An image put through the ECR layer API (as the `archive` push method does) is
served by the registry (HTTP API v2, skopeo, docker pull and run) with the same
digest and tag; a push through the registry side is read through the API; a
tag moved or an image deleted through the API is moved or deleted on both sides.
"""
import base64
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

import pytest

from localcloud.testing import require_binary
from localcloud.testing.cloud import AWS_ENV, LocalCloud
from localcloud.testing.wire import assert_conforms, RawCapture

# The package's folder (tools/localcloud): `python -m localcloud` runs from there as from an installed package.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ACCEPT = ", ".join([OCI_MANIFEST, DOCKER_MANIFEST, "application/vnd.oci.image.index.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_bytes(stamp, oci=True):
    """(manifest text, {digest: blob}) of a runnable image: busybox-static and a /stamp file."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        def add(name, data=None, mode=0o644, kind=tarfile.REGTYPE, link=""):
            info = tarfile.TarInfo(name)
            info.mode, info.type, info.linkname = mode, kind, link
            if data is None:
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        add("bin/", mode=0o755, kind=tarfile.DIRTYPE)
        with open(shutil.which("busybox"), "rb") as handle:
            add("bin/busybox", handle.read(), mode=0o755)
        add("bin/sh", mode=0o777, kind=tarfile.SYMTYPE, link="busybox")
        add("stamp", stamp.encode())
    layer = buf.getvalue()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh", "-c", "cat /stamp"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
    }, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
        "config": {"mediaType": OCI_CONFIG if oci else DOCKER_CONFIG, "size": len(config),
                   "digest": sha(config)},
        "layers": [{"mediaType": OCI_LAYER if oci else DOCKER_LAYER, "size": len(layer),
                    "digest": sha(layer)}],
    }
    return json.dumps(manifest, indent=2), {sha(config): config, sha(layer): layer}


def put_through_api(ecr, repo, manifest, blobs, tag, part=256 * 1024):
    """The `archive` method's calls: upload what ECR lacks in parts, then PutImage; returns the digest."""
    checked = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=list(blobs))
    missing = [f["layerDigest"] for f in checked["failures"]]
    for digest in missing:
        data = blobs[digest]
        upload_id = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
        for first in range(0, len(data), part):
            chunk = data[first:first + part]
            ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=first,
                                  partLastByte=first + len(chunk) - 1, layerPartBlob=chunk)
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload_id, layerDigests=[digest])
    image = ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag)["image"]
    return image["imageId"]["imageDigest"]


class RegistrySide:
    """The registry side as a client of the HTTP API v2 sees it, with the password ECR hands out."""

    def __init__(self, ecr):
        auth = ecr.get_authorization_token()["authorizationData"][0]
        self.address = auth["proxyEndpoint"].split("://", 1)[1]
        self.token = auth["authorizationToken"]
        self.creds = base64.b64decode(self.token).decode()

    def get(self, path, method="GET"):
        """(status, headers, body) of GET /v2/<path>."""
        req = urllib.request.Request("http://%s/v2/%s" % (self.address, path), method=method,
                                     headers={"Authorization": "Basic " + self.token, "Accept": ACCEPT})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def manifest(self, repo, reference):
        """(digest the registry reports, manifest bytes), or (None, None) when it has none."""
        status, headers, body = self.get("%s/manifests/%s" % (repo, reference))
        if status == 404:
            return None, None
        assert status == 200, (status, body)
        assert headers["Docker-Content-Digest"] == sha(body)
        return headers["Docker-Content-Digest"], body

    def tags(self, repo):
        status, _headers, body = self.get("%s/tags/list" % repo)
        if status == 404:
            return []
        assert status == 200, (status, body)
        return sorted(json.loads(body).get("tags") or [])

    def skopeo(self, *args):
        proc = subprocess.run(["skopeo", "--insecure-policy"] + list(args), capture_output=True,
                              text=True, check=False, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


@pytest.fixture
def ecr(cloud):
    require_binary("docker-registry")
    require_binary("busybox")
    status = json.loads(urllib.request.urlopen(cloud.endpoint + "/_localcloud/status").read())
    assert status["registry"], "registry side off: %s" % status["registry_off_reason"]
    client = cloud.client("ecr")
    client.create_repository(repositoryName="customer")
    return client


@pytest.fixture
def registry(ecr):
    return RegistrySide(ecr)


def ecr_tags(ecr, repo="customer"):
    """{tag: digest} through the ECR API."""
    found = {}
    for detail in ecr.describe_images(repositoryName=repo)["imageDetails"]:
        for tag in detail.get("imageTags", []):
            found[tag] = detail["imageDigest"]
    return found


def test_api_image_served_by_registry_with_same_digest(ecr, registry, tmp_path):
    manifest, blobs = image_bytes("one")
    digest = put_through_api(ecr, "customer", manifest, blobs, "latest")
    assert digest == sha(manifest.encode())

    assert registry.manifest("customer", "latest") == (digest, manifest.encode())
    assert registry.manifest("customer", digest) == (digest, manifest.encode())
    assert registry.tags("customer") == ["latest"]
    for blob_digest, data in blobs.items():
        status, headers, body = registry.get("customer/blobs/%s" % blob_digest)
        assert (status, sha(body)) == (200, blob_digest) and body == data
    # Another repository does not serve them: blobs belong to the repository they were put in.
    ecr.create_repository(repositoryName="employee")
    assert registry.manifest("employee", "latest") == (None, None)
    assert registry.get("employee/blobs/%s" % next(iter(blobs)))[0] == 404

    # A registry client with no docker pulls it, blobs checked against their digests.
    ref = "docker://%s/customer:latest" % registry.address
    raw = registry.skopeo("inspect", "--raw", "--creds", registry.creds, "--tls-verify=false", ref)
    assert sha(raw.encode()) == digest
    registry.skopeo("copy", "--preserve-digests", "--src-creds", registry.creds, "--src-tls-verify=false",
                    ref, "oci:%s:latest" % (tmp_path / "pulled"))
    index = json.loads((tmp_path / "pulled" / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [digest]
    for blob_digest, data in blobs.items():
        assert (tmp_path / "pulled" / "blobs" / "sha256" / blob_digest.split(":")[1]).read_bytes() == data


def test_second_put_image_moves_latest_on_both_sides(ecr, registry):
    first_manifest, first_blobs = image_bytes("one")
    first = put_through_api(ecr, "customer", first_manifest, first_blobs, "latest")
    second_manifest, second_blobs = image_bytes("two", oci=False)
    second = put_through_api(ecr, "customer", second_manifest, second_blobs, "latest")
    assert second != first

    assert ecr_tags(ecr)["latest"] == second
    assert registry.manifest("customer", "latest") == (second, second_manifest.encode())
    # The old image stays in the registry by digest (on AWS too it stays, untagged).
    assert registry.manifest("customer", first)[0] == first

    # The same image under one more tag: both tags on both sides.
    ecr.put_image(repositoryName="customer", imageManifest=second_manifest, imageTag="v2")
    assert dict(ecr_tags(ecr)) == {"latest": second, "v2": second}
    assert registry.tags("customer") == ["latest", "v2"]
    assert registry.manifest("customer", "v2")[0] == second


def test_batch_delete_image_removes_from_registry(ecr, registry):
    manifest, blobs = image_bytes("one")
    digest = put_through_api(ecr, "customer", manifest, blobs, "latest")
    ecr.put_image(repositoryName="customer", imageManifest=manifest, imageTag="v1")
    other_manifest, other_blobs = image_bytes("two")
    other = put_through_api(ecr, "customer", other_manifest, other_blobs, "keep")

    raw = RawCapture(ecr)
    # A tag of an image with two tags: only that tag goes.
    result = ecr.batch_delete_image(repositoryName="customer", imageIds=[{"imageTag": "v1"}])
    assert_conforms(raw, "ecr", "BatchDeleteImage")
    assert result["imageIds"] == [{"imageDigest": digest, "imageTag": "v1"}] and result["failures"] == []
    assert registry.tags("customer") == ["keep", "latest"]
    assert registry.manifest("customer", "v1") == (None, None)
    assert registry.manifest("customer", "latest")[0] == digest

    # The last tag: the image goes, from both sides.
    ecr.batch_delete_image(repositoryName="customer", imageIds=[{"imageTag": "latest"}])
    assert ecr_tags(ecr) == {"keep": other}
    assert registry.tags("customer") == ["keep"]
    assert registry.manifest("customer", digest) == (None, None)

    # By digest: every tag of the image goes.
    result = ecr.batch_delete_image(repositoryName="customer",
                                    imageIds=[{"imageDigest": other}, {"imageTag": "gone"}])
    assert_conforms(raw, "ecr", "BatchDeleteImage")
    assert [f["failureCode"] for f in result["failures"]] == ["ImageNotFound"]
    assert ecr_tags(ecr) == {} and registry.tags("customer") == []
    assert registry.manifest("customer", other) == (None, None)

    # Put again after the delete: served again.
    again = put_through_api(ecr, "customer", manifest, blobs, "latest")
    assert again == digest and registry.manifest("customer", "latest")[0] == digest


def test_registry_push_read_through_api_and_deleted_on_both_sides(ecr, registry, tmp_path):
    """A push through the registry side (skopeo, no docker) is an ECR image; BatchDeleteImage removes it."""
    manifest, blobs = image_bytes("pushed")
    layout = tmp_path / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    for digest, data in list(blobs.items()) + [(sha(manifest.encode()), manifest.encode())]:
        (layout / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": sha(manifest.encode()), "size": len(manifest.encode()),
         "annotations": {"org.opencontainers.image.ref.name": "v9"}}]}))
    registry.skopeo("copy", "--preserve-digests", "--dest-creds", registry.creds, "--dest-tls-verify=false",
                    "oci:%s:v9" % layout, "docker://%s/customer:v9" % registry.address)
    pushed, _body = registry.manifest("customer", "v9")
    assert pushed == sha(manifest.encode())

    assert ecr_tags(ecr) == {"v9": pushed}
    image = ecr.batch_get_image(repositoryName="customer", imageIds=[{"imageTag": "v9"}])["images"][0]
    assert sha(image["imageManifest"].encode()) == pushed
    checked = ecr.batch_check_layer_availability(repositoryName="customer", layerDigests=list(blobs))
    assert sorted(l["layerDigest"] for l in checked["layers"]) == sorted(blobs)

    ecr.batch_delete_image(repositoryName="customer", imageIds=[{"imageTag": "v9"}])
    assert registry.tags("customer") == [] and registry.manifest("customer", pushed) == (None, None)
    assert ecr_tags(ecr) == {}  # and no later read brings it back from the registry


def test_delete_repository_removes_registry_side(ecr, registry):
    manifest, blobs = image_bytes("one")
    digest = put_through_api(ecr, "customer", manifest, blobs, "latest")
    ecr.delete_repository(repositoryName="customer", force=True)
    ecr.create_repository(repositoryName="customer")
    assert registry.manifest("customer", "latest") == (None, None)
    assert registry.manifest("customer", digest) == (None, None)
    checked = ecr.batch_check_layer_availability(repositoryName="customer", layerDigests=list(blobs))
    assert checked["layers"] == [] and ecr_tags(ecr) == {}


@pytest.fixture(scope="module")
def docker_env(dockerd):
    """The session's Docker engine (`dockerd` of localcloud.testing)."""
    return dockerd


def docker(env, *args, **kwargs):
    proc = subprocess.run(["docker"] + list(args), env=env, capture_output=True, text=True,
                          check=False, timeout=300, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_docker_pulls_and_runs_api_image(ecr, registry, docker_env):
    """What ECS task sets will do on the local engine: pull the ECR image put through the API, run it."""
    uri = ecr.describe_repositories(repositoryNames=["customer"])["repositories"][0]["repositoryUri"]
    assert uri == registry.address + "/customer"
    user, _sep, password = registry.creds.partition(":")
    docker(docker_env, "login", "--username", user, "--password-stdin", registry.address, input=password)

    manifest, blobs = image_bytes("first version")
    first = put_through_api(ecr, "customer", manifest, blobs, "latest")
    docker(docker_env, "pull", uri + ":latest")
    digests = json.loads(docker(docker_env, "image", "inspect", "--format", "{{json .RepoDigests}}",
                                uri + ":latest"))
    assert digests == ["%s@%s" % (uri, first)]
    assert docker(docker_env, "run", "--rm", "--network", "none", uri + ":latest") == "first version"

    # A new latest through the API: the next pull gets it.
    manifest, blobs = image_bytes("second version", oci=False)
    second = put_through_api(ecr, "customer", manifest, blobs, "latest")
    docker(docker_env, "pull", uri + ":latest")
    digests = json.loads(docker(docker_env, "image", "inspect", "--format", "{{json .RepoDigests}}",
                                uri + ":latest"))
    assert "%s@%s" % (uri, second) in digests
    assert docker(docker_env, "run", "--rm", "--network", "none", uri + ":latest") == "second version"

    # Deleted through the API: docker finds nothing to pull.
    ecr.batch_delete_image(repositoryName="customer", imageIds=[{"imageTag": "latest"}])
    docker(docker_env, "image", "rm", uri + ":latest")
    proc = subprocess.run(["docker", "pull", uri + ":latest"], env=docker_env, capture_output=True,
                          text=True, check=False, timeout=300)
    assert proc.returncode != 0 and "not found" in proc.stderr.lower(), proc.stderr


@pytest.fixture
def cloud_without_registry(tmp_path):
    """A second local cloud whose registry cannot start (its port is held): the store alone."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        busy = held.getsockname()[1]
        cloud = LocalCloud(tmp_path)
        log = open(tmp_path / "server.log", "ab")
        cloud.proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud", "serve", "--port", str(cloud.port),
             "--state-dir", str(tmp_path), "--registry-port", str(busy)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, **AWS_ENV))
        log.close()
        try:
            for _attempt in range(300):
                try:
                    status = json.loads(urllib.request.urlopen(cloud.endpoint + "/_localcloud/status",
                                                               timeout=2).read())
                    break
                except OSError:
                    assert cloud.proc.poll() is None, (tmp_path / "server.log").read_text()
                    time.sleep(0.2)
            else:
                pytest.fail("local cloud did not answer, see %s/server.log" % tmp_path)
            assert status["registry"] is None and "in use" in status["registry_off_reason"]
            yield cloud
        finally:
            cloud.stop()


def test_store_without_registry_process(cloud_without_registry):
    """Layers and images put through the API are kept and forgotten the same way with the registry off."""
    require_binary("busybox")
    ecr = cloud_without_registry.client("ecr")
    ecr.create_repository(repositoryName="customer")
    manifest, blobs = image_bytes("one")
    digest = put_through_api(ecr, "customer", manifest, blobs, "latest")
    assert ecr_tags(ecr) == {"latest": digest}
    checked = ecr.batch_check_layer_availability(repositoryName="customer", layerDigests=list(blobs))
    assert sorted(l["layerDigest"] for l in checked["layers"]) == sorted(blobs)
    ecr.delete_repository(repositoryName="customer", force=True)
    ecr.create_repository(repositoryName="customer")
    checked = ecr.batch_check_layer_availability(repositoryName="customer", layerDigests=list(blobs))
    assert checked["layers"] == []
