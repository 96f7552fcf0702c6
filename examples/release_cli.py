"""`make release SERVICE=employee`'s local helper: the next version of a sample service, as an image archive.

Builds a new version of examples/<service> (its pages say the version) and writes it as an OCI archive;
prints the archive's path on stdout, for `make release` to hand to playbooks/release.yml
(-e release_archive=...), which pushes it as ``latest`` and follows what that push starts. Needs Phases 5 to
8 done on the cloud at LOCALCLOUD_ENDPOINT (the version is numbered from what it runs).

As on AWS, creating the pipeline (Phase 8) ran it once: that first execution deployed version 1. The helper
waits for executions still in progress (the first one, right after site.yml) to end, then numbers its version
after the one live: the version the pages of the image that the service's ECS service runs say, plus one (the
first release is version 2). A destroy and a rebuild start the pipeline's executions again from one, not the
live version: the count of executions only stands in where no live image says its version.

The archive is the service's archive of Phase 5 (<archive-dir>/<service>.oci.tar) when that folder exists, so
that a rerun of Phase 5 pushes the released version rather than version 1 again; else
<release-dir>/<service>.oci.tar (.cache/release).

    PYTHONPATH=.collections python -m examples.release_cli --service employee [--endpoint http://127.0.0.1:4566]

It runs from the checkout's root, the collection importable through the .collections link (make release sets
PYTHONPATH); the lab's names are the collection's model (plugins/module_utils/_lab.py).
"""
import argparse
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import time
import urllib.request

import boto3
import botocore.exceptions

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from examples import build

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PART = 4 * 1024 * 1024


class Cloud:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.clients = {}

    def __getattr__(self, service):
        if service not in self.clients:
            self.clients[service] = boto3.client(
                service.replace("_", "-"), endpoint_url=self.endpoint, region_name=os.environ.get(
                    "AWS_DEFAULT_REGION", "us-east-1"),
                aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
                aws_session_token=os.environ.get("AWS_SESSION_TOKEN", "test"))
        return self.clients[service]


def image_of(service, version, busybox=None):
    """(manifest bytes, {digest: blob}) of the sample service whose pages say `version`."""
    return build.sample_image(service, busybox=busybox or build.BUSYBOX, version=version)


def _digest(manifest):
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def _reference(image):
    """(repository URI, tag or None, digest or None) of an image reference: ``<uri>[:<tag>][@<digest>]``."""
    name, _, digest = image.partition("@")
    uri, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:  # no tag: the colon was the registry's port
        uri, tag = name, None
    return uri, tag, digest or None


def _images_running(cloud, repository_uri):
    """The image references (``<uri>@sha256:...`` or ``<uri>:<tag>``) of `repository_uri` that ACTIVE ECS
    services run now, by their task definitions."""
    ecs = cloud.ecs
    found = set()
    for cluster in ecs.list_clusters()["clusterArns"]:
        arns = ecs.list_services(cluster=cluster, maxResults=100)["serviceArns"]
        for first in range(0, len(arns), 10):
            for svc in ecs.describe_services(cluster=cluster, services=arns[first:first + 10])["services"]:
                if svc.get("status") != "ACTIVE" or not svc.get("taskDefinition"):
                    continue
                taskdef = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
                found.update(c["image"] for c in taskdef["containerDefinitions"]
                             if _reference(c.get("image", ""))[0] == repository_uri)
    return found


def _version_in_image(cloud, service, image):
    """The version the sample pages of `image` (a reference to repository `service`) say, or None."""
    _uri, tag, digest = _reference(image)
    image_id = {"imageDigest": digest} if digest else {"imageTag": tag or "latest"}
    images = cloud.ecr.batch_get_image(repositoryName=service, imageIds=[image_id])["images"]
    if not images:
        return None
    said = re.compile(r"%s version (\d+)\b" % re.escape(service))
    for layer in reversed(json.loads(images[0]["imageManifest"]).get("layers", [])):
        url = cloud.ecr.get_download_url_for_layer(repositoryName=service, layerDigest=layer["digest"])["downloadUrl"]
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                data = resp.read()
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                for member in tar:
                    if member.isfile() and member.name.lstrip("./").startswith("www/"):
                        found = said.search(tar.extractfile(member).read().decode("utf-8", "replace"))
                        if found:
                            return int(found.group(1))
        except (OSError, tarfile.TarError):  # not a layer of files (another image than the samples)
            continue
    return None


def live_version(cloud, service):
    """The version the service runs now: what the pages of the image its ECS service runs say (the highest, when
    several services run images of the repository); None when no service runs one that says a version."""
    try:
        uri = cloud.ecr.describe_repositories(repositoryNames=[service])["repositories"][0]["repositoryUri"]
    except cloud.ecr.exceptions.RepositoryNotFoundException:
        return None
    versions = [_version_in_image(cloud, service, image) for image in sorted(_images_running(cloud, uri))]
    return max((v for v in versions if v is not None), default=None)


def next_version(cloud, service, asked, number, busybox=None):
    """(version, manifest, blobs) of the image to release: `asked`, else the first number from the live version
    plus one (`number`, the count of executions plus one, where no live image says its version, or when it is
    higher) whose image is not ``latest`` already (pushing the same image again would start nothing, as on AWS)."""
    if asked:
        return (asked,) + image_of(service, asked, busybox)
    live = live_version(cloud, service)
    if live is not None:
        number = max(number, live + 1)
    try:
        latest = cloud.ecr.describe_images(repositoryName=service, imageIds=[{"imageTag": "latest"}])[
            "imageDetails"][0]["imageDigest"]
    except (cloud.ecr.exceptions.ImageNotFoundException, cloud.ecr.exceptions.RepositoryNotFoundException):
        latest = None
    while True:
        manifest, blobs = image_of(service, str(number), busybox)
        if _digest(manifest) != latest:
            return str(number), manifest, blobs
        number += 1


def push(cloud, repository, manifest, blobs, tag="latest"):
    """Upload what the repository lacks, then PutImage; returns the image digest."""
    digests = sorted(blobs)
    known = cloud.ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=digests)["layers"]
    have = set(layer["layerDigest"] for layer in known if layer.get("layerAvailability") == "AVAILABLE")
    for digest in digests:
        if digest in have:
            continue
        data = blobs[digest]
        upload = cloud.ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
        for first in range(0, len(data), PART):
            chunk = data[first:first + PART]
            cloud.ecr.upload_layer_part(repositoryName=repository, uploadId=upload, partFirstByte=first,
                                        partLastByte=first + len(chunk) - 1, layerPartBlob=chunk)
        cloud.ecr.complete_layer_upload(repositoryName=repository, uploadId=upload, layerDigests=[digest])
    image = cloud.ecr.put_image(repositoryName=repository, imageManifest=manifest.decode("utf-8"), imageTag=tag,
                                imageManifestMediaType="application/vnd.oci.image.manifest.v1+json")["image"]
    return image["imageId"]["imageDigest"]


def settled(cloud, pipeline, out=sys.stdout, timeout=300):
    """The pipeline's execution summaries once none is InProgress (the first execution may still run)."""
    deadline = time.time() + timeout
    told = set()
    while True:
        summaries = cloud.codepipeline.list_pipeline_executions(pipelineName=pipeline)["pipelineExecutionSummaries"]
        running = [s for s in summaries if s["status"] == "InProgress"]
        if not running or time.time() > deadline:
            return summaries
        for summary in running:
            if summary["pipelineExecutionId"] not in told:
                told.add(summary["pipelineExecutionId"])
                print("waiting for execution %s (%s) to end" % (summary["pipelineExecutionId"],
                                                                 summary["trigger"]["triggerType"]), file=out)
        time.sleep(0.2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True, help="a sample service: customer or employee")
    parser.add_argument("--endpoint", default=os.environ.get("LOCALCLOUD_ENDPOINT", "http://127.0.0.1:4566"))
    parser.add_argument("--version", help="the version the new image says it is (default: the live version plus one, "
                        "as the pages of the image the service runs say it; else the number of the pipeline's "
                        "executions so far plus one; the first, at CreatePipeline, deployed version 1)")
    parser.add_argument("--busybox", help="busybox-static to put in the image (default /bin/busybox)")
    parser.add_argument("--archive-dir", default=os.path.join(ROOT, ".cache", "images"),
                        help="folder of the sample images' archives that Phase 5 pushes (make images writes them); "
                        "the released version replaces the service's archive there when the folder exists")
    parser.add_argument("--release-dir", default=os.path.join(ROOT, ".cache", "release"),
                        help="where the archive goes when --archive-dir does not exist")
    args = parser.parse_args(argv)
    if not os.path.isdir(os.path.join(ROOT, "examples", args.service)):
        parser.error("--service %s: no sample service examples/%s (customer or employee)" % (args.service, args.service))
    cloud = Cloud(args.endpoint)
    pipeline = _lab.pipeline(args.service)
    try:
        known = settled(cloud, pipeline, out=sys.stderr)
    except cloud.codepipeline.exceptions.PipelineNotFoundException:
        print("no pipeline %s on %s: run Phases 5 to 8 first (playbooks/site.yml)" % (pipeline, args.endpoint),
              file=sys.stderr)
        return 2
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError) as exc:
        print("no local cloud answers at %s (%s): start it with `make cloud`" % (args.endpoint, exc), file=sys.stderr)
        return 2
    version, manifest, blobs = next_version(cloud, args.service, args.version, len(known) + 1, args.busybox)
    # The released image is the service's local image, as a rebuilt Phase 4 image would be: a rerun of Phase 5
    # pushes it again (no change) instead of putting the previous version back as latest.
    folder = args.archive_dir if os.path.isdir(args.archive_dir) else args.release_dir
    os.makedirs(folder, exist_ok=True)
    archive = os.path.join(folder, "%s.oci.tar" % args.service)
    build.write_oci_archive(manifest, blobs, archive)
    print("%s version %s built: %s (%s)" % (args.service, version, os.path.relpath(archive), _digest(manifest)),
          file=sys.stderr)
    print(archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
