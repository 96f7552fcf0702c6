#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_image_push
short_description: Push container images to Amazon ECR through the ECR API, from archives or a Docker engine
version_added: 1.0.0
description:
  - Pushes one or more images to Amazon ECR repositories with the ECR layer API
    (C(BatchCheckLayerAvailability), C(InitiateLayerUpload), C(UploadLayerPart), C(CompleteLayerUpload), C(PutImage)),
    then checks that each repository lists the tag with the digest pushed (the lab's last step of task 5.1).
    No registry login is needed, so no password is ever handled.
  - Method V(archive) reads an OCI image layout folder, an OCI archive (a tar of such a layout, as written by
    C(skopeo copy oci-archive:) or Docker 25+ C(docker save)) or the older C(docker save) tarball.
  - Method V(docker) reads the image from a local Docker engine (C(DOCKER_HOST), else C(/var/run/docker.sock)),
    as C(docker save) would write it, and pushes it the same way. When the repository's tag already holds
    the engine's image (same image id, that is the same config), nothing is exported and C(changed=false).
  - Method V(auto) is V(docker) when an engine answers, else V(archive).
  - A C(docker save) tarball is turned into an OCI manifest whose layers are the tarball's plain tar
    layers (media type C(application/vnd.oci.image.layer.v1.tar)), which Amazon ECR accepts. They are
    not recompressed, so the same tarball always gives the same manifest digest.
  - Idempotent. When the tag already points at the manifest, nothing is uploaded and C(changed=false).
    Layers the repository already holds are skipped.
  - Every image is read and every blob is checked against its digest before anything is sent, so a
    missing, corrupt or non-image source fails without pushing anything.
  - Neither amazon.aws nor community.aws has a module that pushes images; community.docker pushes
    through a Docker engine only, one image per run, after a registry login, and has no check mode for it.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  images:
    description:
      - The images to push. One run pushes them all, which saves a module run per service.
      - Exactly one of O(images) and O(services) is required.
    type: list
    elements: dict
    suboptions:
      repository:
        description: Name of the ECR repository, which must exist (in check mode, it may be still to create).
        type: str
        required: true
      source:
        description:
          - Path of the OCI layout folder, OCI archive or C(docker save) tarball (method V(archive)).
          - Defaults to C(<archive_dir>/<repository>.oci.tar) when O(archive_dir) is set.
        type: path
      image:
        description: Reference of the image in the Docker engine (method V(docker)); defaults to C(<repository>:latest).
        type: str
      tag:
        description: Tag to give the image in the repository.
        type: str
        default: latest
      ref:
        description:
          - Which image to take when the source holds several, for instance C(customer:latest).
            Matched against C(org.opencontainers.image.ref.name) annotations or C(docker save) repository tags.
        type: str
  services:
    description:
      - The services, as the C(microservices) list of this collection; instead of O(images).
      - C(name) is the repository, C(image) the engine's image (default C(<name>:latest)), C(archive) the
        source (default C(<archive_dir>/<name>.oci.tar)); other keys are ignored.
    type: list
    elements: dict
  tag:
    description: Tag pushed for O(services).
    type: str
    default: latest
  method:
    description:
      - Where the images come from; V(archive) files, V(docker) a Docker engine, V(auto) the engine when one answers.
    type: str
    choices: [auto, docker, archive]
    default: archive
  archive_dir:
    description: Folder of C(<name>.oci.tar) for images or services that name no source.
    type: path
  docker_host:
    description: Address of the Docker engine; defaults to C(DOCKER_HOST), else C(unix:///var/run/docker.sock).
    type: str
  verify_timeout:
    description: Seconds to wait for ECR to list a pushed tag with its digest before failing.
    type: int
    default: 30
  registry_id:
    description: Account ID of the registry; defaults to the caller's account.
    type: str
  part_size:
    description:
      - Size in bytes of the parts layers are uploaded in. V(0) uses the part size that
        C(InitiateLayerUpload) suggests. Amazon ECR refuses parts under 5 MiB except the last one.
    type: int
    default: 0
extends_documentation_fragment:
  - cloudlab.microservices.attributes
  - cloudlab.microservices.services
  - cloudlab.microservices.attributes.actiongroup_aws
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Reports which images would change, their digests and which layers would be uploaded, uploading nothing.
  diff_mode:
    support: full
    details: Shows the digest each tag points at before and after.
  idempotent:
    support: full
    details: A tag that already points at the image is left alone.
notes:
  - The image's manifest digest is the SHA-256 of the manifest bytes; Amazon ECR reports the same digest.
  - Sources and the Docker engine are read on the host the module runs on.
"""

EXAMPLES = r"""
- name: Push the sample services' OCI archives
  cloudlab.microservices.ecr_image_push:
    images:
      - repository: customer
        source: .cache/images/customer.oci.tar
      - repository: employee
        source: /tmp/employee.docker-save.tar
        ref: employee:latest
  register: pushed

- name: Push the services' images from the local Docker engine, or their archives without one
  cloudlab.microservices.ecr_image_push:
    services: "{{ microservices }}"
    method: auto
    archive_dir: .cache/images

- name: Upload in 5 MiB parts
  cloudlab.microservices.ecr_image_push:
    images:
      - repository: customer
        source: /srv/images/customer-oci-layout
        tag: v1
    part_size: 5242880
"""

RETURN = r"""
method:
  description: Where the images came from, V(archive) or V(docker).
  returned: always
  type: str
  sample: archive
images:
  description: One entry per image, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    repository:
      description: Repository name.
      type: str
      sample: customer
    tag:
      description: Tag pushed.
      type: str
      sample: latest
    source:
      description: Path of the archive, or C(docker:<image>) for an engine's image.
      type: str
      sample: .cache/images/customer.oci.tar
    digest:
      description: Digest of the manifest the tag now points at (in check mode, would point at).
      type: str
      sample: sha256:4fa26576cc7f4aca3d7f307591d880fae80183589f6a66bb73076ba509b22d1a
    previous_digest:
      description: Digest the tag pointed at before, or null.
      type: str
      sample: null
    listed_digest:
      description: Digest ECR lists under the tag after the run (in check mode, now), or null.
      type: str
    changed:
      description: Whether this image's tag was (or, in check mode, would be) moved.
      type: bool
    layers_uploaded:
      description: Digests of blobs (config and layers) uploaded, or to upload in check mode.
      type: list
      elements: str
    layers_skipped:
      description: Digests of blobs the repository already held.
      type: list
      elements: str
    bytes_sent:
      description: Bytes of blobs uploaded (in check mode, that would be uploaded).
      type: int
      sample: 1996800
    manifest_media_type:
      description: Media type of the manifest pushed (null when the engine's image was already there).
      type: str
      sample: application/vnd.oci.image.manifest.v1+json
digests:
  description: Repository name to manifest digest, for every image.
  returned: always
  type: dict
  sample: {"customer": "sha256:4fa26576cc7f4aca3d7f307591d880fae80183589f6a66bb73076ba509b22d1a"}
listed:
  description:
    - Repository name to the digest ECR lists under the tag after the run, or null; equal to RV(digests)
      outside check mode (the module fails otherwise).
  returned: always
  type: dict
layers_uploaded:
  description: Number of blobs uploaded over all images.
  returned: always
  type: int
layers_skipped:
  description: Number of blobs skipped over all images.
  returned: always
  type: int
bytes_sent:
  description: Bytes uploaded over all images.
  returned: always
  type: int
"""

import tempfile
import time

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import each
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._docker_engine import Engine
from ansible_collections.cloudlab.microservices.plugins.module_utils._docker_engine import EngineError
from ansible_collections.cloudlab.microservices.plugins.module_utils._docker_engine import image_ref
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import ImageSourceError
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import config_digest
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import default_archive
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import load_image
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import service_archive
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import SERVICE_OPTIONS

MAX_LAYER_DIGESTS = 100  # BatchCheckLayerAvailability's limit per call
# Asked for so that ECR hands the manifest back as pushed, never converted.
ACCEPTED_MEDIA_TYPES = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
]
VERIFY_DELAY = 2


def _registry(params):
    return {"registryId": params["registry_id"]} if params.get("registry_id") else {}


def specs(module):
    """The images to push, each with repository, tag, source, image, ref filled in."""
    p = module.params
    if p["services"] is not None:
        # The archive lab_info's plan compares too (_oci.service_archive).
        given = [dict(repository=s.get("name"), tag=p["tag"],
                      source=service_archive(s, p["archive_dir"]) if s.get("name") else None,
                      image=s.get("image") or None, ref=None) for s in p["services"]]
    else:
        given = [dict(i) for i in p["images"]]
    if not given:
        raise CloudlabError(message="Failed to push images: %s is empty, there is nothing to push"
                            % ("services" if p["services"] is not None else "images"))
    for index, spec in enumerate(given):
        if not spec.get("repository"):
            raise CloudlabError(message="Failed to push images: services[%d] has no name" % index)
        spec["image"] = image_ref(spec.get("image") or spec["repository"])
        if not spec.get("source") and p["archive_dir"]:
            spec["source"] = default_archive(p["archive_dir"], spec["repository"])
    return given


def choose_method(method, engine):
    """archive or docker: `auto` is docker when the engine answers."""
    if method == "auto":
        return "docker" if engine.answers() else "archive"
    if method == "docker" and not engine.answers():
        raise CloudlabError(message="Failed to push with method docker: no Docker engine answers at %s; start it, "
                            "set DOCKER_HOST, or use method archive (image_push_method=archive)" % engine.host)
    return method


def read_tag(ecr, repository, tag, extra):
    """(digest, manifest text) the tag points at, (None, None) without the tag; None when no repository."""
    try:
        result = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}],
                                     acceptedMediaTypes=ACCEPTED_MEDIA_TYPES, **extra)
    except missing_code("RepositoryNotFoundException"):
        return None
    for image in result.get("images", []):
        return image["imageId"].get("imageDigest"), image.get("imageManifest")
    return None, None


def missing_blobs(ecr, repository, image, extra):
    """Split the image's blobs into (to upload, already there)."""
    available = set()
    digests = sorted(set(blob.digest for blob in image.blobs))
    for start in range(0, len(digests), MAX_LAYER_DIGESTS):
        result = ecr.batch_check_layer_availability(
            repositoryName=repository, layerDigests=digests[start:start + MAX_LAYER_DIGESTS], **extra)
        for layer in result.get("layers", []):
            if layer.get("layerAvailability") == "AVAILABLE":
                available.add(layer["layerDigest"])
    upload, skip, seen = [], [], set()
    for blob in image.blobs:
        if blob.digest in seen:
            continue
        seen.add(blob.digest)
        (skip if blob.digest in available else upload).append(blob)
    return upload, skip


def upload_blob(ecr, repository, blob, part_size, extra):
    started = ecr.initiate_layer_upload(repositoryName=repository, **extra)
    upload_id = started["uploadId"]
    size = part_size or started.get("partSize") or 10 * 1024 * 1024
    first = 0
    for part in blob.chunks(size):
        ecr.upload_layer_part(repositoryName=repository, uploadId=upload_id, partFirstByte=first,
                              partLastByte=first + len(part) - 1, layerPartBlob=part, **extra)
        first += len(part)
    try:
        ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id,
                                  layerDigests=[blob.digest], **extra)
    except missing_code("LayerAlreadyExistsException"):
        pass  # another push brought the same layer in meanwhile: it is there, which is all we need
    return first


class Item(object):
    """One image to push: its spec, what ECR holds under the tag, and the image read (None if already there)."""

    def __init__(self, spec, source):
        self.spec = spec
        self.source = source
        self.image = None
        self.exists = True
        self.previous = None
        self.result = dict(repository=spec["repository"], tag=spec["tag"], source=source, digest=None,
                           previous_digest=None, listed_digest=None, changed=False, layers_uploaded=[],
                           layers_skipped=[], bytes_sent=0, manifest_media_type=None)

    def close(self):
        if self.image is not None:
            self.image.close()


def _open(path, spec, where):
    try:
        image = load_image(path, spec.get("ref"))
    except ImageSourceError as e:
        raise CloudlabError(message="Failed to read image for repository %s (%s): %s" % (spec["repository"], where, e))
    try:
        image.verify()
    except ImageSourceError as e:
        image.close()
        raise CloudlabError(message="Failed to read image for repository %s (%s): %s" % (spec["repository"], where, e))
    return image


def prepare(module, ecr, method, engine, items_specs):
    """Read every image and what ECR holds before the first upload: a bad one must push nothing."""
    extra = _registry(module.params)
    items = []
    try:
        for index, spec in enumerate(items_specs):
            if method == "archive":
                if not spec.get("source"):
                    raise CloudlabError(message="Failed to push images: images[%d] (repository %s) has no source; "
                                        "set its source or archive_dir" % (index, spec["repository"]))
                item = Item(spec, spec["source"])
                items.append(item)
                item.image = _open(spec["source"], spec, "images[%d].source" % index)
            else:
                item = Item(spec, "docker:%s" % spec["image"])
                items.append(item)
                try:
                    local = engine.image(spec["image"])
                except EngineError as e:
                    raise CloudlabError(message="Failed to read the Docker image %s for repository %s: %s"
                                        % (spec["image"], spec["repository"], e))
                if local is None:
                    raise CloudlabError(message="Failed to find the local Docker image %s for repository %s: build "
                                        "it (make images), or set `image` in the service's entry"
                                        % (spec["image"], spec["repository"]))
            found = aws_call("read tag %s of ECR repository %s" % (spec["tag"], spec["repository"]))(read_tag)(
                ecr, spec["repository"], spec["tag"], extra)
            if found is None:
                item.exists = False
            else:
                item.previous, manifest = found
            if method == "docker":
                # Same image id (its config digest, or the manifest's digest with the containerd store):
                # the tag already holds this image, whatever compression its layers were pushed with.
                if item.previous and local["Id"] in (item.previous, config_digest(manifest or "")):
                    item.result["digest"] = item.previous
                else:
                    item.image = export(module, engine, spec)
    except Exception:
        for item in items:
            item.close()
        raise
    return items


def export(module, engine, spec):
    """The engine's image as `docker save` writes it, in a file of the module's temp folder, read and verified."""
    handle = tempfile.NamedTemporaryFile(dir=module.tmpdir, prefix="docker-save-", suffix=".tar", delete=False)
    try:
        engine.export(spec["image"], handle)
    except EngineError as e:
        raise CloudlabError(message="Failed to export the Docker image %s for repository %s: %s"
                            % (spec["image"], spec["repository"], e))
    finally:
        handle.close()
    return _open(handle.name, dict(spec, ref=spec["image"]), "docker image %s" % spec["image"])


def push(module, ecr, item):
    """Move the item's tag to its image, uploading what the repository lacks; fills item.result."""
    p = module.params
    extra = _registry(p)
    spec, result, image = item.spec, item.result, item.image
    repository, tag = spec["repository"], spec["tag"]
    result["previous_digest"] = item.previous
    if image is None:  # the engine's image is already there
        return
    result.update(digest=image.digest, manifest_media_type=image.media_type)
    if not item.exists:
        if not module.check_mode:
            raise CloudlabError(message="Failed to push %s: ECR repository %s does not exist; create it first "
                                "(role ecr_repos) or fix the repository name" % (item.source, repository))
        # A run that would create the repository first (role ecr_repos): everything would go up.
        upload = dict((b.digest, b) for b in image.blobs)
        result.update(changed=True, layers_uploaded=list(upload), bytes_sent=sum(b.size for b in upload.values()))
        return
    if item.previous == image.digest:
        result["layers_skipped"] = sorted(set(b.digest for b in image.blobs))
        return
    result["changed"] = True
    upload, skip = aws_call("check the layers of ECR repository %s" % repository)(missing_blobs)(
        ecr, repository, image, extra)
    result["layers_skipped"] = [b.digest for b in skip]
    result["layers_uploaded"] = [b.digest for b in upload]
    if module.check_mode:
        result["bytes_sent"] = sum(b.size for b in upload)
        return
    try:
        for blob in upload:
            result["bytes_sent"] += upload_blob(ecr, repository, blob, p["part_size"], extra)
        ecr.put_image(repositoryName=repository, imageManifest=image.manifest.decode("utf-8"),
                      imageManifestMediaType=image.media_type, imageTag=tag,
                      imageDigest=image.digest, **extra)
    except missing_code("ImageAlreadyExistsException"):
        # The tag was moved to this very manifest between our read and PutImage.
        result["changed"] = False
    except missing_code("ImageTagAlreadyExistsException") as e:  # pylint: disable=duplicate-except
        raise CloudlabError(message="Failed to push %s:%s: the repository's tags are IMMUTABLE and %s already "
                            "exists; push under another tag or make the repository MUTABLE" % (repository, tag, tag),
                            exception=e)
    except ImageSourceError as e:
        raise CloudlabError(message="Failed to read image %s for repository %s: %s" % (item.source, repository, e))


def listed_digests(ecr, items, extra):
    def one(item):
        try:
            found = ecr.describe_images(repositoryName=item.spec["repository"], imageIds=[{"imageTag": item.spec["tag"]}], **extra)["imageDetails"]
        except missing_code("ImageNotFoundException", "RepositoryNotFoundException"):
            found = []
        return found[0]["imageDigest"] if found else None

    listed = each(one, items, lambda item: item.spec["repository"], "read the images ECR lists in repository")
    return dict((item.spec["repository"], digest) for item, digest in zip(items, listed))


def verify(module, ecr, items):
    """What the lab checks in the console: each repository lists the tag with the digest pushed."""
    extra = _registry(module.params)
    wanted = dict((i.spec["repository"], i.result["digest"]) for i in items)
    deadline = time.time() + max(module.params["verify_timeout"], 0)
    listed = listed_digests(ecr, items, extra)
    while not module.check_mode and listed != wanted and time.time() < deadline:
        time.sleep(VERIFY_DELAY)
        listed = listed_digests(ecr, items, extra)
    for item in items:
        item.result["listed_digest"] = listed[item.spec["repository"]]
    if not module.check_mode and listed != wanted:
        wrong = sorted(name for name in wanted if listed.get(name) != wanted[name])
        raise CloudlabError(message="Failed to verify the push: after %ss ECR lists %s under tag %s, expected %s; "
                            "raise verify_timeout (image_push_verify_timeout) if ECR is slow to list images"
                            % (module.params["verify_timeout"], dict((n, listed.get(n)) for n in wrong),
                               ", ".join(sorted(set(i.spec["tag"] for i in items))),
                               dict((n, wanted[n]) for n in wrong)))
    return listed


def push_all(module):
    p = module.params
    if p["part_size"] < 0:
        raise CloudlabError(message="Failed to push images: part_size must be 0 or a positive number of bytes")
    wanted = specs(module)
    ecr = client(module, "ecr")
    engine = Engine(p["docker_host"])
    method = choose_method(p["method"], engine) if p["method"] != "archive" else "archive"
    items = prepare(module, ecr, method, engine, wanted)
    try:
        # One image per worker: each fills its own item.result, read below in the images' order.
        each(lambda item: push(module, ecr, item), items, lambda item: item.spec["repository"],
             "push the image of ECR repository")
    finally:
        for item in items:
            item.close()
    listed = verify(module, ecr, items)
    results = [i.result for i in items]
    output = dict(
        changed=any(r["changed"] for r in results),
        method=method,
        images=results,
        digests=dict((r["repository"], r["digest"]) for r in results),
        listed=listed,
        layers_uploaded=sum(len(r["layers_uploaded"]) for r in results),
        layers_skipped=sum(len(r["layers_skipped"]) for r in results),
        bytes_sent=sum(r["bytes_sent"] for r in results),
    )
    if module._diff:
        output["diff"] = dict(
            before=dict(("%s:%s" % (r["repository"], r["tag"]), r["previous_digest"]) for r in results),
            after=dict(("%s:%s" % (r["repository"], r["tag"]), r["digest"]) for r in results),
        )
    return output


def main():
    argument_spec = dict(
        images=dict(type="list", elements="dict", options=dict(
            repository=dict(type="str", required=True),
            source=dict(type="path"),
            image=dict(type="str"),
            tag=dict(type="str", default="latest"),
            ref=dict(type="str"),
        )),
        services=dict(type="list", elements="dict", options=SERVICE_OPTIONS),
        tag=dict(type="str", default="latest"),
        method=dict(type="str", choices=["auto", "docker", "archive"], default="archive"),
        archive_dir=dict(type="path"),
        docker_host=dict(type="str"),
        verify_timeout=dict(type="int", default=30),
        registry_id=dict(type="str"),
        part_size=dict(type="int", default=0),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                              required_one_of=[["images", "services"]],
                              mutually_exclusive=[["images", "services"]])
    run(module, push_all)


if __name__ == "__main__":
    main()
