# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a container image from disk without a Docker engine.

Three shapes are understood: an OCI image layout folder, a tar of such a
layout (an "OCI archive", which is also what Docker 25+ `docker save`
writes), and the older `docker save` tarball (manifest.json + layer.tar
files). The result is what a registry needs: a manifest (bytes, media type,
digest) and the blobs it references, each with a way to stream it.

Used by the ecr_image_push module (to push such an image, or one exported
from a Docker engine, which is the same format) and by the image_push role's
preflight (to refuse a corrupt archive before anything changes).

Private to this collection: the module_utils API may change at any time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
REF_ANNOTATIONS = ("org.opencontainers.image.ref.name", "io.containerd.image.name")
CHUNK = 1024 * 1024


class ImageSourceError(Exception):
    """The image source is missing, unreadable, corrupt or not an image."""


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Blob(object):
    """One blob of an image: config or layer."""

    def __init__(self, digest, size, media_type, opener):
        self.digest = digest
        self.size = size
        self.media_type = media_type
        self._opener = opener

    def open(self):
        return self._opener()

    def chunks(self, size=CHUNK):
        handle = self.open()
        try:
            while True:
                data = handle.read(size)
                if not data:
                    return
                yield data
        finally:
            handle.close()


class Image(object):
    """A manifest and the blobs it needs (config first, then layers)."""

    def __init__(self, manifest, media_type, blobs, source, closer=None):
        self.manifest = manifest
        self.media_type = media_type
        self.digest = sha256_digest(manifest)
        self.blobs = blobs
        self.source = source
        self._closer = closer

    @property
    def size(self):
        return sum(blob.size for blob in self.blobs)

    def verify(self):
        """Hash every blob: a corrupt source must fail before anything is sent."""
        for blob in self.blobs:
            hasher = hashlib.sha256()
            length = 0
            try:
                for data in blob.chunks():
                    hasher.update(data)
                    length += len(data)
            except (OSError, EOFError, tarfile.TarError) as exc:
                raise ImageSourceError("%s: cannot read blob %s: %s" % (self.source, blob.digest, exc))
            actual = "sha256:" + hasher.hexdigest()
            if actual != blob.digest or length != blob.size:
                raise ImageSourceError(
                    "%s is corrupt: blob %s has digest %s and %d bytes, the manifest says %s and %d bytes"
                    % (self.source, blob.digest, actual, length, blob.digest, blob.size))

    def close(self):
        if self._closer:
            self._closer()
            self._closer = None


class _FolderReader(object):
    def __init__(self, root):
        self.root = root

    def exists(self, name):
        return os.path.isfile(os.path.join(self.root, name))

    def open(self, name):
        try:
            return open(os.path.join(self.root, name), "rb")
        except (IOError, OSError) as exc:
            raise ImageSourceError("%s: cannot read %s: %s" % (self.root, name, exc))

    def size(self, name):
        return os.path.getsize(os.path.join(self.root, name))

    def close(self):
        pass


class _TarReader(object):
    def __init__(self, path):
        self.root = path
        try:
            self.tar = tarfile.open(path, "r:*")
            self.members = {}
            for member in self.tar.getmembers():
                if member.isfile():
                    self.members[os.path.normpath(member.name).lstrip("/")] = member
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            # Python 3.12's "r:*" lists each compression it tried on its own line: one line here.
            lines = [line.strip(" -") for line in str(exc).splitlines() if line.strip(" -")]
            raise ImageSourceError("%s is not a readable tar archive: %s" % (path, lines[-1] if lines else exc))

    def exists(self, name):
        return os.path.normpath(name) in self.members

    def open(self, name):
        member = self.members.get(os.path.normpath(name))
        if member is None:
            raise ImageSourceError("%s is incomplete: %s is missing" % (self.root, name))
        return self.tar.extractfile(member)

    def size(self, name):
        return self.members[os.path.normpath(name)].size

    def close(self):
        self.tar.close()


def _read_json(reader, name):
    handle = reader.open(name)
    try:
        data = handle.read()
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise ImageSourceError("%s: cannot read %s: %s" % (reader.root, name, exc))
    finally:
        handle.close()
    try:
        return data, json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise ImageSourceError("%s: %s is not valid JSON: %s" % (reader.root, name, exc))


def _blob_path(digest):
    algorithm, _sep, hexdigest = digest.partition(":")
    return "blobs/%s/%s" % (algorithm, hexdigest)


def _pick(descriptors, ref, source):
    """Choose one manifest of an index: by reference name, else the only one / linux/amd64."""
    if ref:
        named = [d for d in descriptors
                 if any(d.get("annotations", {}).get(key) in (ref, ref.rsplit(":", 1)[-1]) for key in REF_ANNOTATIONS)]
        if len(named) == 1:
            return named[0]
    if len(descriptors) == 1:
        return descriptors[0]
    linux = [d for d in descriptors if d.get("platform", {}).get("os") == "linux"
             and d.get("platform", {}).get("architecture") == "amd64"]
    if len(linux) == 1:
        return linux[0]
    raise ImageSourceError("%s holds %d images; name the one to push with its reference (ref)"
                           % (source, len(descriptors)))


def _from_layout(reader, ref):
    _raw, index = _read_json(reader, "index.json")
    descriptor = _pick(index.get("manifests") or [], ref, reader.root)
    # An index may point at another index (multi-platform); follow it down to one manifest.
    for _depth in range(4):
        media_type = descriptor.get("mediaType")
        raw = _read_blob(reader, descriptor)
        try:
            document = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise ImageSourceError("%s: manifest %s is not valid JSON: %s" % (reader.root, descriptor.get("digest"), exc))
        media_type = media_type or document.get("mediaType")
        if media_type in INDEX_TYPES:
            descriptor = _pick(document.get("manifests") or [], None, reader.root)
            continue
        if media_type not in MANIFEST_TYPES:
            raise ImageSourceError("%s: unsupported manifest media type %r" % (reader.root, media_type))
        blobs = []
        for entry in [document.get("config")] + list(document.get("layers") or []):
            if not entry or "digest" not in entry:
                raise ImageSourceError("%s: manifest %s lacks a config or layer digest" % (reader.root, descriptor["digest"]))
            path = _blob_path(entry["digest"])
            if not reader.exists(path):
                raise ImageSourceError("%s is incomplete: blob %s is missing" % (reader.root, entry["digest"]))
            blobs.append(Blob(entry["digest"], int(entry.get("size", reader.size(path))),
                              entry.get("mediaType"), _opener(reader, path)))
        return raw, media_type, blobs
    raise ImageSourceError("%s: image indexes nest too deeply" % reader.root)


def _read_blob(reader, descriptor):
    digest = descriptor.get("digest", "")
    path = _blob_path(digest)
    if not reader.exists(path):
        raise ImageSourceError("%s is incomplete: blob %s is missing" % (reader.root, digest))
    handle = reader.open(path)
    try:
        raw = handle.read()
    finally:
        handle.close()
    if sha256_digest(raw) != digest:
        raise ImageSourceError("%s is corrupt: manifest %s does not match its digest" % (reader.root, digest))
    return raw


def _opener(reader, name):
    return lambda: reader.open(name)


def _from_docker_save(reader, ref):
    """Docker's legacy save format, turned into an OCI manifest.

    Layers in this format are plain tars. They are pushed as they are, as
    OCI uncompressed layers: their digests are then the diff_ids the config
    already lists, and the same tarball always gives the same manifest digest
    (recompressing would tie digests to one zlib version).
    """
    _raw, entries = _read_json(reader, "manifest.json")
    if not isinstance(entries, list) or not entries:
        raise ImageSourceError("%s: manifest.json lists no image" % reader.root)
    if ref and len(entries) > 1:
        wanted = ref if ":" in ref.rsplit("/", 1)[-1] else ref + ":latest"
        named = [e for e in entries if wanted in (e.get("RepoTags") or [])]
        entries = named or entries
    if len(entries) != 1:
        raise ImageSourceError("%s holds %d images; name the one to push with its reference (ref)"
                               % (reader.root, len(entries)))
    entry = entries[0]
    config_name = entry.get("Config")
    if not config_name or not reader.exists(config_name):
        raise ImageSourceError("%s is incomplete: image config %s is missing" % (reader.root, config_name))
    config_raw, config = _read_json(reader, config_name)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    layer_names = entry.get("Layers") or []
    if len(diff_ids) != len(layer_names):
        raise ImageSourceError("%s is corrupt: %d layers but the config lists %d"
                               % (reader.root, len(layer_names), len(diff_ids)))
    blobs = [Blob(sha256_digest(config_raw), len(config_raw), OCI_CONFIG, lambda: _BytesHandle(config_raw))]
    for name, diff_id in zip(layer_names, diff_ids):
        if not reader.exists(name):
            raise ImageSourceError("%s is incomplete: layer %s is missing" % (reader.root, name))
        # A compressed layer (rare in this format) would not match its diff_id:
        # verify() then reports the archive as corrupt instead of pushing it.
        blobs.append(Blob(diff_id, reader.size(name), OCI_LAYER_TAR, _opener(reader, name)))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": blobs[0].digest, "size": blobs[0].size},
        "layers": [{"mediaType": b.media_type, "digest": b.digest, "size": b.size} for b in blobs[1:]],
    }
    raw = json.dumps(manifest, separators=(",", ":")).encode("utf-8")
    return raw, OCI_MANIFEST, blobs


class _BytesHandle(object):
    def __init__(self, data):
        self._data = data
        self._pos = 0

    def read(self, size=-1):
        end = len(self._data) if size is None or size < 0 else self._pos + size
        chunk = self._data[self._pos:end]
        self._pos += len(chunk)
        return chunk

    def close(self):
        pass


def load_image(path, ref=None):
    """Open the image at `path` (layout folder, OCI archive, docker save tarball)."""
    if not os.path.exists(path):
        raise ImageSourceError("%s does not exist" % path)
    reader = _FolderReader(path) if os.path.isdir(path) else _TarReader(path)
    try:
        if reader.exists("index.json"):
            raw, media_type, blobs = _from_layout(reader, ref)
        elif reader.exists("manifest.json"):
            raw, media_type, blobs = _from_docker_save(reader, ref)
        else:
            raise ImageSourceError("%s is not a container image: no index.json (OCI) or manifest.json (docker save)" % path)
        if not blobs[1:]:
            raise ImageSourceError("%s: the image has no layers, there is nothing to run" % path)
    except Exception:
        reader.close()
        raise
    return Image(raw, media_type, blobs, path, closer=reader.close)


def default_archive(archive_dir, name):
    """Where a service's archive is when its entry names none: <archive_dir>/<name>.oci.tar."""
    return os.path.join(archive_dir, "%s.oci.tar" % name)


def service_archive(entry, archive_dir):
    """The archive a service entry pushes with method archive: its own, else <archive_dir>/<name>.oci.tar, else None."""
    if entry.get("archive"):
        return entry["archive"]
    return default_archive(archive_dir, entry["name"]) if archive_dir else None


def archive_digest(path, ref=None):
    """The manifest digest of the image at ``path`` (what ECR lists once it is pushed), or None when ``path`` is
    None or holds no readable image."""
    if not path:
        return None
    try:
        image = load_image(path, ref)
    except ImageSourceError:
        return None
    try:
        return image.digest
    finally:
        image.close()


def check_image(path, ref=None):
    """Read the index and manifests of the image at ``path`` (not the layers); ImageSourceError if it is none."""
    load_image(path, ref).close()


def config_digest(manifest):
    """Digest of the config blob a manifest (bytes or text) names, or None (an index, or not JSON)."""
    try:
        document = json.loads(manifest if isinstance(manifest, str) else manifest.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    config = document.get("config") if isinstance(document, dict) else None
    return config.get("digest") if isinstance(config, dict) else None
