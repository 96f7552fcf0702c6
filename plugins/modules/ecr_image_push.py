#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_image_push
short_description: Push container images to Amazon ECR through the ECR API, without Docker
version_added: 0.1.0
description:
  - Pushes one or more images, read from disk, to Amazon ECR repositories with the ECR layer API
    (C(BatchCheckLayerAvailability), C(InitiateLayerUpload), C(UploadLayerPart), C(CompleteLayerUpload), C(PutImage)).
    No Docker engine and no registry login are needed.
  - Understands an OCI image layout folder, an OCI archive (a tar of such a layout, as written by
    C(skopeo copy oci-archive:) or Docker 25+ C(docker save)) and the older C(docker save) tarball.
  - A C(docker save) tarball is turned into an OCI manifest whose layers are the tarball's plain tar
    layers (media type C(application/vnd.oci.image.layer.v1.tar)), which Amazon ECR accepts. They are
    not recompressed, so the same tarball always gives the same manifest digest.
  - Idempotent. When the tag already points at the manifest, nothing is uploaded and C(changed=false).
    Layers the repository already holds are skipped.
  - Every source is read and every blob is checked against its digest before anything is sent, so a
    missing, corrupt or non-image source fails without pushing anything.
  - Neither amazon.aws nor community.aws has a module that pushes images; community.docker pushes
    through a Docker engine only.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  images:
    description:
      - The images to push. One call pushes them all, which saves a module run per service.
    type: list
    elements: dict
    required: true
    suboptions:
      repository:
        description: Name of the ECR repository, which must exist.
        type: str
        required: true
      source:
        description: Path of the OCI layout folder, OCI archive or C(docker save) tarball.
        type: path
        required: true
      tag:
        description: Tag to give the image in the repository.
        type: str
        default: latest
      ref:
        description:
          - Which image to take when the source holds several, for instance C(customer:latest).
            Matched against C(org.opencontainers.image.ref.name) annotations or C(docker save) repository tags.
        type: str
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
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reports which images would change and which layers would be uploaded, uploading nothing.
  diff_mode:
    support: full
    description: Shows the digest each tag points at before and after.
  idempotent:
    support: full
    description: A tag that already points at the image's manifest is left alone.
notes:
  - The image's manifest digest is the SHA-256 of the manifest bytes; Amazon ECR reports the same digest.
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

- name: Upload in 5 MiB parts
  cloudlab.microservices.ecr_image_push:
    images:
      - repository: customer
        source: /srv/images/customer-oci-layout
        tag: v1
    part_size: 5242880
"""

RETURN = r"""
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
    digest:
      description: Digest of the manifest the tag now points at.
      type: str
      sample: sha256:4fa26576cc7f4aca3d7f307591d880fae80183589f6a66bb73076ba509b22d1a
    previous_digest:
      description: Digest the tag pointed at before, or null.
      type: str
      sample: null
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
      description: Media type of the manifest pushed.
      type: str
      sample: application/vnd.oci.image.manifest.v1+json
digests:
  description: Repository name to manifest digest, for every image.
  returned: always
  type: dict
  sample: {"customer": "sha256:4fa26576cc7f4aca3d7f307591d880fae80183589f6a66bb73076ba509b22d1a"}
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

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.cloudlab.microservices.plugins.module_utils._ecr.image import ImageSourceError
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecr.image import load_image

MAX_LAYER_DIGESTS = 100  # BatchCheckLayerAvailability's limit per call


def _registry(params):
    return {"registryId": params["registry_id"]} if params.get("registry_id") else {}


def current_digest(client, repository, tag, extra):
    """Digest the tag points at, or None (no such tag yet)."""
    try:
        result = client.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}],
                                        aws_retry=True, **extra)
    except is_boto3_error_code("RepositoryNotFoundException"):
        return None, False
    for image in result.get("images", []):
        return image["imageId"].get("imageDigest"), True
    return None, True


def missing_blobs(client, repository, image, extra):
    """Split the image's blobs into (to upload, already there)."""
    available = set()
    digests = sorted(set(blob.digest for blob in image.blobs))
    for start in range(0, len(digests), MAX_LAYER_DIGESTS):
        result = client.batch_check_layer_availability(
            repositoryName=repository, layerDigests=digests[start:start + MAX_LAYER_DIGESTS],
            aws_retry=True, **extra)
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


def upload_blob(client, repository, blob, part_size, extra):
    started = client.initiate_layer_upload(repositoryName=repository, aws_retry=True, **extra)
    upload_id = started["uploadId"]
    size = part_size or started.get("partSize") or 10 * 1024 * 1024
    first = 0
    for part in blob.chunks(size):
        client.upload_layer_part(repositoryName=repository, uploadId=upload_id, partFirstByte=first,
                                 partLastByte=first + len(part) - 1, layerPartBlob=part,
                                 aws_retry=True, **extra)
        first += len(part)
    try:
        client.complete_layer_upload(repositoryName=repository, uploadId=upload_id,
                                     layerDigests=[blob.digest], aws_retry=True, **extra)
    except is_boto3_error_code("LayerAlreadyExistsException"):
        pass  # another push brought the same layer in meanwhile: it is there, which is all we need
    return first


def push_one(module, client, spec, image):
    extra = _registry(module.params)
    repository, tag = spec["repository"], spec["tag"]
    result = {
        "repository": repository, "tag": tag, "digest": image.digest, "previous_digest": None,
        "changed": False, "layers_uploaded": [], "layers_skipped": [], "bytes_sent": 0,
        "manifest_media_type": image.media_type,
    }
    try:
        previous, exists = current_digest(client, repository, tag, extra)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read tag %s of ECR repository %s" % (tag, repository))
    if not exists and module.check_mode:
        # A run that would create the repository first (role ecr_repos): everything would go up.
        upload = dict((b.digest, b) for b in image.blobs)
        result.update(changed=True, layers_uploaded=list(upload), bytes_sent=sum(b.size for b in upload.values()))
        return result
    if not exists:
        module.fail_json(msg="Failed to push %s: ECR repository %s does not exist; create it first "
                         "(role ecr_repos) or fix images[].repository" % (image.source, repository))
    result["previous_digest"] = previous
    if previous == image.digest:
        result["layers_skipped"] = sorted(set(b.digest for b in image.blobs))
        return result
    result["changed"] = True
    try:
        upload, skip = missing_blobs(client, repository, image, extra)
        result["layers_skipped"] = [b.digest for b in skip]
        result["layers_uploaded"] = [b.digest for b in upload]
        if module.check_mode:
            result["bytes_sent"] = sum(b.size for b in upload)
            return result
        for blob in upload:
            result["bytes_sent"] += upload_blob(client, repository, blob, module.params["part_size"], extra)
        client.put_image(repositoryName=repository, imageManifest=image.manifest.decode("utf-8"),
                         imageManifestMediaType=image.media_type, imageTag=tag,
                         imageDigest=image.digest, aws_retry=True, **extra)
    except is_boto3_error_code("ImageAlreadyExistsException"):
        # The tag was moved to this very manifest between our read and PutImage.
        result["changed"] = False
    except is_boto3_error_code("ImageTagAlreadyExistsException") as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to push %s:%s: the repository's tags are IMMUTABLE and %s already exists; "
                             "push under another images[].tag or make the repository MUTABLE" % (repository, tag, tag))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to push image %s to ECR repository %s" % (image.source, repository))
    except ImageSourceError as e:
        module.fail_json(msg="Failed to read image %s for repository %s: %s" % (image.source, repository, e))
    return result


def load_all(module):
    """Open and verify every source before the first upload: a bad one must push nothing."""
    images = []
    for index, spec in enumerate(module.params["images"]):
        try:
            image = load_image(spec["source"], spec.get("ref"))
            image.verify()
        except ImageSourceError as e:
            for opened in images:
                opened.close()
            module.fail_json(msg="Failed to read image for repository %s (images[%d].source): %s"
                             % (spec["repository"], index, e))
        images.append(image)
    return images


def main():
    argument_spec = dict(
        images=dict(type="list", elements="dict", required=True, options=dict(
            repository=dict(type="str", required=True),
            source=dict(type="path", required=True),
            tag=dict(type="str", default="latest"),
            ref=dict(type="str"),
        )),
        registry_id=dict(type="str"),
        part_size=dict(type="int", default=0),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not module.params["images"]:
        module.fail_json(msg="Failed to push images: images is empty, there is nothing to push")
    if module.params["part_size"] < 0:
        module.fail_json(msg="Failed to push images: part_size must be 0 or a positive number of bytes")
    # ECR answers throttled calls with ThrottlingException, which is not in
    # AWSRetry's default list of retryable codes.
    client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff(
        catch_extra_error_codes=["ThrottlingException"]))
    images = load_all(module)
    results = []
    try:
        for spec, image in zip(module.params["images"], images):
            results.append(push_one(module, client, spec, image))
    finally:
        for image in images:
            image.close()
    changed = any(r["changed"] for r in results)
    output = dict(
        changed=changed,
        images=results,
        digests=dict((r["repository"], r["digest"]) for r in results),
        layers_uploaded=sum(len(r["layers_uploaded"]) for r in results),
        layers_skipped=sum(len(r["layers_skipped"]) for r in results),
        bytes_sent=sum(r["bytes_sent"] for r in results),
    )
    if module._diff:
        output["diff"] = dict(
            before=dict(("%s:%s" % (r["repository"], r["tag"]), r["previous_digest"]) for r in results),
            after=dict(("%s:%s" % (r["repository"], r["tag"]), r["digest"]) for r in results),
        )
    module.exit_json(**output)


if __name__ == "__main__":
    main()
