"""ECR operations moto 5.2.5 gets wrong or lacks, answered against moto's own backend.

moto runs in this process, so its ECR backend is the record of repositories
and images that the API answers from. The bytes live in one store, the
registry side's storage (localcloud.registry), which both paths read and
write, as on AWS:
- layer uploads are checked against the digest the client claims (moto
  accepts any digest and keeps only sizes) and land in the store as blobs of
  the repository;
- BatchCheckLayerAvailability is AVAILABLE only for blobs the repository holds
  in the store (uploaded through the API, or pushed through the registry side);
- PutImage refuses manifests whose config or layers are missing, takes sha256
  of the manifest bytes as the digest (moto invents its own), and writes the
  manifest and its tag into the store, so that `docker pull` finds it;
- BatchDeleteImage removes the deleted manifests and tags from the store too;
- GetDownloadUrlForLayer (missing in moto) points at our blob endpoint;
- GetAuthorizationToken hands out the registry side's password, and
  repository URIs name the registry side, as on AWS;
- images pushed with docker to the registry side appear in moto's backend.
"""
import base64
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid

from moto.backends import get_backend
from moto.core.exceptions import ServiceException

from localcloud.common import ACCOUNT_ID, AwsError

LOG = logging.getLogger("localcloud.ecr")
PART_SIZE = 10 * 1024 * 1024
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
URI_RE = re.compile(rb"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/")
INTERCEPTED = {"InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload",
               "BatchCheckLayerAvailability", "PutImage", "GetDownloadUrlForLayer",
               "GetAuthorizationToken", "BatchDeleteImage"}
# Reads that must see what docker pushed to the registry side.
READS = {"DescribeImages", "BatchGetImage", "ListImages", "DescribeImageScanFindings"}


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


class Ecr:
    def __init__(self, state_dir, registry):
        """`registry`: the registry side (localcloud.registry.Registry), whose storage is the store."""
        self.root = os.path.join(state_dir, "ecr")
        self.uploads_dir = os.path.join(self.root, "uploads")
        self.registry = registry
        self._lock = threading.RLock()
        self.lock = self._lock  # for the server's calls into moto's ECR backend
        self._uploads = {}
        # (region, repository, tag) -> registry digest last copied into moto, so
        # that a later PutImage through the API is not undone by an old push.
        self._synced = {}
        self.reset()

    def reset(self):
        with self._lock:
            shutil.rmtree(self.root, ignore_errors=True)
            os.makedirs(self.uploads_dir)
            self._uploads = {}
            self._synced = {}
            self.registry.reset()

    # -- helpers -------------------------------------------------------------
    @staticmethod
    def backend(region):
        return get_backend("ecr")[ACCOUNT_ID][region]

    def _repository(self, region, params):
        name = params.get("repositoryName")
        if not name:
            raise AwsError("InvalidParameterException", "repositoryName is required")
        try:
            return self.backend(region)._get_repository(name, params.get("registryId"))
        except ServiceException as exc:
            raise AwsError(exc.code, exc.message)

    def blob_path(self, digest):
        if not DIGEST_RE.match(digest or ""):
            return None
        return self.registry.blob_path(digest)

    def _available(self, repository, digest):
        """The store holds `digest` as a blob of this repository: (True, size) or (False, None)."""
        if self.registry.has_layer(repository.name, digest):
            return True, os.path.getsize(self.registry.blob_path(digest))
        return False, None

    def rewrite_uris(self, body):
        """repositoryUri hosts become the registry side's address, as docker must use it."""
        if self.registry is None or not self.registry.running:
            return body
        return URI_RE.sub(self.registry.address.encode() + b"/", body)

    # -- registry side -> moto -----------------------------------------------
    def sync_repository(self, region, name):
        if not self.registry.running or not name:
            return
        with self._lock:
            backend = self.backend(region)
            repository = backend.repositories.get(name)
            if repository is None:
                return
            for tag, digest in sorted(self.registry.tags(name).items()):
                key = (region, name, tag)
                if self._synced.get(key) == (id(repository), digest):
                    continue
                manifest = self.registry.manifest(digest)
                if manifest is None:
                    continue
                text = manifest.decode("utf-8")
                try:
                    media_type = json.loads(text).get("mediaType")
                except ValueError:
                    continue
                try:
                    backend.put_image(name, text, tag, media_type, digest)
                except ServiceException as exc:
                    if exc.code != "ImageAlreadyExistsException":
                        LOG.warning("could not record %s:%s from the registry: %s", name, tag, exc.message)
                        continue
                self._synced[key] = (id(repository), digest)
                LOG.info("recorded registry push %s:%s = %s", name, tag, digest)

    def on_registry_events(self, doc):
        """Registry notification envelope: copy pushed tagged manifests into moto."""
        repos = set()
        for event in doc.get("events", []):
            target = event.get("target", {})
            if event.get("action") == "push" and target.get("tag") and target.get("repository"):
                repos.add(target["repository"])
        for name in repos:
            for region in self.all_regions_with(name):
                self.sync_repository(region, name)
        return sorted(repos)

    def all_regions_with(self, name):
        account = get_backend("ecr")[ACCOUNT_ID]
        return [region for region, backend in list(account.items()) if name in backend.repositories]

    # -- operations ----------------------------------------------------------
    def handle(self, operation, params, region, host):
        with self._lock:
            return getattr(self, "op_" + operation)(params, region or "us-east-1", host)

    def op_GetAuthorizationToken(self, params, region, host):
        expires = time.time() + 12 * 3600
        registry_ids = params.get("registryIds") or [ACCOUNT_ID]
        return {"authorizationData": [
            {"authorizationToken": self.registry.token(), "expiresAt": expires,
             "proxyEndpoint": "http://%s" % self.registry.address} for _ in registry_ids]}

    def op_InitiateLayerUpload(self, params, region, host):
        repository = self._repository(region, params)
        upload_id = str(uuid.uuid4())
        path = os.path.join(self.uploads_dir, upload_id)
        open(path, "wb").close()
        self._uploads[upload_id] = {"region": region, "repository": repository.name, "path": path,
                                    "size": 0}
        return {"uploadId": upload_id, "partSize": PART_SIZE}

    def _upload(self, params, region, repository):
        upload = self._uploads.get(params.get("uploadId") or "")
        if upload is None or upload["repository"] != repository.name or upload["region"] != region:
            raise AwsError("UploadNotFoundException",
                           "Upload with id '%s' is not found in repository '%s'"
                           % (params.get("uploadId"), repository.name))
        return upload

    def op_UploadLayerPart(self, params, region, host):
        repository = self._repository(region, params)
        upload = self._upload(params, region, repository)
        data = base64.b64decode(params.get("layerPartBlob") or "")
        first, last = params.get("partFirstByte"), params.get("partLastByte")
        if first != upload["size"] or last != first + len(data) - 1:
            raise AwsError("InvalidLayerPartException",
                           "The layer part must start at byte %d and cover the bytes sent "
                           "(got %s-%s for %d bytes)" % (upload["size"], first, last, len(data)))
        with open(upload["path"], "ab") as handle:
            handle.write(data)
        upload["size"] += len(data)
        return {"registryId": repository.registry_id, "repositoryName": repository.name,
                "uploadId": params["uploadId"], "lastByteReceived": upload["size"] - 1}

    def op_CompleteLayerUpload(self, params, region, host):
        repository = self._repository(region, params)
        upload = self._upload(params, region, repository)
        claimed = params.get("layerDigests") or []
        if upload["size"] == 0:
            raise AwsError("EmptyUploadException",
                           "The upload %s has no layer parts" % params["uploadId"])
        actual = _sha256_file(upload["path"])
        if actual not in claimed:
            del self._uploads[params["uploadId"]]
            os.unlink(upload["path"])
            raise AwsError("InvalidLayerException",
                           "The layer digest calculation performed by Amazon ECR upon receipt of "
                           "the image layer does not match the digest specified (%s, computed %s)"
                           % (", ".join(claimed) or "none", actual))
        del self._uploads[params["uploadId"]]
        available, _ = self._available(repository, actual)
        if available:
            os.unlink(upload["path"])
            raise AwsError("LayerAlreadyExistsException",
                           "The image layer %s already exists in the repository %s"
                           % (actual, repository.name))
        self.registry.add_layer(repository.name, actual, upload["path"])
        return {"registryId": repository.registry_id, "repositoryName": repository.name,
                "uploadId": params["uploadId"], "layerDigest": actual}

    def op_BatchCheckLayerAvailability(self, params, region, host):
        repository = self._repository(region, params)
        layers, failures = [], []
        for digest in params.get("layerDigests") or []:
            if not DIGEST_RE.match(digest):
                failures.append({"layerDigest": digest, "failureCode": "InvalidLayerDigest",
                                 "failureReason": "Invalid layer digest '%s'" % digest})
                continue
            available, size = self._available(repository, digest)
            if available:
                layers.append({"layerDigest": digest, "layerAvailability": "AVAILABLE",
                               "layerSize": size, "mediaType": LAYER_MEDIA_TYPE})
            else:
                failures.append({"layerDigest": digest, "failureCode": "MissingLayerDigest",
                                 "failureReason": "Layer digest '%s' could not be found" % digest})
        return {"layers": layers, "failures": failures}

    def op_GetDownloadUrlForLayer(self, params, region, host):
        repository = self._repository(region, params)
        digest = params.get("layerDigest") or ""
        if not DIGEST_RE.match(digest):
            raise AwsError("InvalidParameterException", "Invalid layer digest '%s'" % digest)
        if not self._available(repository, digest)[0]:
            raise AwsError("LayersNotFoundException",
                           "The image layer %s does not exist in the repository %s" % (digest, repository.name))
        return {"downloadUrl": "http://%s/_localcloud/ecr/blobs/%s" % (host, digest), "layerDigest": digest}

    def op_PutImage(self, params, region, host):
        repository = self._repository(region, params)
        self.sync_repository(region, repository.name)
        text = params.get("imageManifest")
        if not isinstance(text, str) or not text:
            raise AwsError("InvalidParameterException", "imageManifest is required")
        try:
            manifest = json.loads(text)
        except ValueError:
            raise AwsError("InvalidParameterException",
                           "Invalid parameter at 'ImageManifest' failed to satisfy constraint: "
                           "'Invalid JSON syntax'")
        if not isinstance(manifest, dict):
            raise AwsError("InvalidParameterException", "The image manifest must be a JSON object")
        digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        if params.get("imageDigest") and params["imageDigest"] != digest:
            raise AwsError("ImageDigestDoesNotMatchException",
                           "The digest %s does not match the manifest's digest %s"
                           % (params["imageDigest"], digest))
        media_type = params.get("imageManifestMediaType") or manifest.get("mediaType")
        if "manifests" in manifest:
            known = {img.get_image_digest() for img in repository.images}
            missing = [m.get("digest") for m in manifest["manifests"] if m.get("digest") not in known]
            if missing:
                raise AwsError("ReferencedImagesNotFoundException",
                               "Some of the images referenced by the manifest list are not in %s: %s"
                               % (repository.name, ", ".join(map(str, missing))))
        else:
            wanted = [(manifest.get("config") or {}).get("digest")]
            wanted += [layer.get("digest") for layer in manifest.get("layers") or []]
            missing = [d for d in wanted if not d or not DIGEST_RE.match(d)
                       or not self._available(repository, d)[0]]
            if missing:
                raise AwsError("LayersNotFoundException",
                               "Layers %s of the image manifest are not in the repository %s; "
                               "upload them first" % (", ".join(map(str, missing)), repository.name))
            if not media_type:
                config_type = (manifest.get("config") or {}).get("mediaType", "")
                media_type = ("application/vnd.oci.image.manifest.v1+json" if "oci" in config_type
                              else "application/vnd.docker.distribution.manifest.v2+json")
        try:
            image = self.backend(region).put_image(repository.name, text, params.get("imageTag"),
                                                   media_type, digest)
        except ServiceException as exc:
            raise AwsError(exc.code, exc.message)
        image_id = {"imageDigest": image.get_image_digest()}
        if params.get("imageTag"):
            image_id["imageTag"] = params["imageTag"]
        # The same image for the registry side: `docker pull <uri>:<tag>` gets these bytes.
        self.registry.put_manifest(repository.name, digest, text.encode("utf-8"), params.get("imageTag"))
        if params.get("imageTag"):
            self._synced[(region, repository.name, params["imageTag"])] = (id(repository), digest)
        return {"image": {"registryId": repository.registry_id, "repositoryName": repository.name,
                          "imageId": image_id, "imageManifest": text,
                          "imageManifestMediaType": media_type}}

    def op_BatchDeleteImage(self, params, region, host):
        repository = self._repository(region, params)
        if not params.get("imageIds"):
            raise AwsError("InvalidParameterException", "imageIds must name at least one image")
        self.sync_repository(region, repository.name)  # a fresh docker push can be deleted too
        before = self._images(repository)
        try:
            result = self.backend(region).batch_delete_image(
                repository.name, params.get("registryId"), params.get("imageIds"))
        except ServiceException as exc:
            raise AwsError(exc.code, exc.message)
        after = self._images(repository)
        for digest, tags in before.items():
            if digest not in after:
                self.registry.remove_manifest(repository.name, digest)
            for tag in tags - after.get(digest, set()):
                self.registry.remove_tag(repository.name, tag, digest)
                self._synced.pop((region, repository.name, tag), None)
        deleted = []
        for item in result["imageIds"]:
            image_id = {"imageDigest": item.image_digest}
            if item.image_tag:
                image_id["imageTag"] = item.image_tag
            deleted.append(image_id)
        return {"imageIds": deleted, "failures": result["failures"]}

    @staticmethod
    def _images(repository):
        """{digest: set of tags} of moto's record of `repository`."""
        images = {}
        for image in repository.images:
            images.setdefault(image.get_image_digest(), set()).update(image.image_tags)
        return images
