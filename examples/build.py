#!/usr/bin/env python3
# Copyright: Contributors to the cloudlab.microservices collection
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the sample services' images: `make images`.

Every run writes each service as an OCI archive (an OCI image layout in a
tar) under .cache/images/<svc>.oci.tar, with no Docker and no download: a
busybox-static layer and a layer of the service's files. When a Docker engine
answers, it also builds `<svc>:latest` from the service's Dockerfile, so that
image_push can use either method. The archives are reproducible: same inputs,
same digests (fixed times and owners, sorted entries, no compression).

Each page says the service's name and its version (``@VERSION@`` in the files
under www/ becomes the version, 1 unless told), and the server listens on
``$HOST:$PORT`` (0.0.0.0:8080 unless told): the local cloud runs tasks on the
host network and gives each task its own port.
"""
import argparse
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVICES = ("customer", "employee")
BUSYBOX = "/bin/busybox"
PORT = 8080
VERSION = "1"
VERSION_MARK = b"@VERSION@"
# The Dockerfiles' ENTRYPOINT, the same in the archives.
ENTRYPOINT = ["/bin/busybox", "sh", "-c",
              'exec /bin/busybox httpd -f -v -p "${HOST:-0.0.0.0}:${PORT:-%d}" -h /www' % PORT]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def _digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _add(tar, name, data=None, mode=0o644, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    # Fixed metadata: the layer digest must depend on content only.
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = mode
    info.type = kind
    if data is None:
        tar.addfile(info)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def layer_from_files(files):
    """A deterministic tar layer from {path in image: (bytes, mode)}; parents are added."""
    folders = set()
    for path in files:
        parts = path.strip("/").split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folders.add("/".join(parts[:depth]))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for entry in sorted(list(folders) + [p.strip("/") for p in files]):
            if entry in folders:
                _add(tar, entry + "/", mode=0o755, kind=tarfile.DIRTYPE)
            else:
                data, mode = files["/" + entry] if "/" + entry in files else files[entry]
                _add(tar, entry, data, mode)
    return buf.getvalue()


def service_files(service_dir, version=VERSION):
    """The service's `www` folder, as it lands in the image, with its version in place of ``@VERSION@``."""
    files = {}
    www = os.path.join(service_dir, "www")
    for folder, _dirs, names in os.walk(www):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                data = handle.read().replace(VERSION_MARK, str(version).encode("utf-8"))
                files["/www/" + os.path.relpath(path, www).replace(os.sep, "/")] = (data, 0o644)
    if not files:
        raise SystemExit("%s has no www/ files to serve" % service_dir)
    return files


def oci_image(layers, name, entrypoint):
    """(manifest bytes, {digest: blob}) for an image of uncompressed `layers`."""
    arch = ARCHITECTURES.get(platform.machine(), platform.machine())
    config = {
        "architecture": arch,
        "os": "linux",
        "config": {
            "Entrypoint": entrypoint,
            "ExposedPorts": {"%d/tcp" % PORT: {}},
            "Labels": {"org.opencontainers.image.title": name},
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [_digest(layer) for layer in layers]},
        "history": [{"created_by": "cloudlab.microservices examples/build.py"}],
    }
    config_raw = _canonical(config)
    blobs = {_digest(config_raw): config_raw}
    for layer in layers:
        blobs[_digest(layer)] = layer
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _digest(config_raw), "size": len(config_raw)},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": _digest(l), "size": len(l)} for l in layers],
    }
    return _canonical(manifest), blobs


def write_oci_archive(manifest, blobs, out, ref="latest"):
    """Write an OCI image layout, as a tar, to `out`; returns the manifest digest."""
    blobs = dict(blobs)
    blobs[_digest(manifest)] = manifest
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": _digest(manifest), "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": ref},
        }],
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
        _add(tar, "blobs/", mode=0o755, kind=tarfile.DIRTYPE)
        _add(tar, "blobs/sha256/", mode=0o755, kind=tarfile.DIRTYPE)
        for digest in sorted(blobs):
            _add(tar, "blobs/sha256/" + digest.split(":", 1)[1], blobs[digest])
        _add(tar, "index.json", _canonical(index))
        _add(tar, "oci-layout", _canonical({"imageLayoutVersion": "1.0.0"}))
    os.replace(tmp, out)
    return _digest(manifest)


def sample_image(service, service_dir=None, busybox=BUSYBOX, version=VERSION):
    """(manifest bytes, {digest: blob}) of one sample service at `version`."""
    service_dir = service_dir or os.path.join(HERE, service)
    with open(busybox, "rb") as handle:
        base = layer_from_files({"/bin/busybox": (handle.read(), 0o755)})
    app = layer_from_files(service_files(service_dir, version))
    return oci_image([base, app], service, ENTRYPOINT)


def build_archive(service, out, service_dir=None, busybox=BUSYBOX, version=VERSION):
    """The OCI archive of one sample service; returns its manifest digest."""
    manifest, blobs = sample_image(service, service_dir, busybox, version)
    return write_oci_archive(manifest, blobs, out)


def docker_answers(docker="docker"):
    if not shutil.which(docker):
        return False
    try:
        return subprocess.run([docker, "version", "--format", "{{.Server.Version}}"],
                              capture_output=True, timeout=15, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def docker_build(service, tag=None, service_dir=None, busybox=BUSYBOX, docker="docker", env=None, version=VERSION):
    """`docker build` of the service's Dockerfile, with busybox and the versioned pages in a temporary context.

    `env` is the environment of the docker client (DOCKER_HOST, DOCKER_CONFIG), os.environ by default.
    """
    service_dir = service_dir or os.path.join(HERE, service)
    with tempfile.TemporaryDirectory(prefix="build-%s-" % service) as context:
        shutil.copytree(service_dir, context, dirs_exist_ok=True)
        for path, (data, _mode) in service_files(service_dir, version).items():
            with open(os.path.join(context, path.lstrip("/")), "wb") as handle:
                handle.write(data)
        shutil.copy2(busybox, os.path.join(context, "busybox"))
        # The classic builder needs no buildx plugin and no network for FROM scratch.
        build_env = dict(os.environ if env is None else env, DOCKER_BUILDKIT="0")
        proc = subprocess.run([docker, "build", "-q", "-t", tag or "%s:latest" % service, context],
                              capture_output=True, text=True, env=build_env, check=False)
    if proc.returncode:
        raise SystemExit("docker build of %s failed:\n%s" % (service, proc.stderr))
    return proc.stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    parser.add_argument("--out", default=os.path.join(ROOT, ".cache", "images"),
                        help="folder of the OCI archives (default .cache/images)")
    parser.add_argument("--docker", choices=("auto", "yes", "no"), default="auto",
                        help="also build with Docker: when an engine answers (auto), always, never")
    args = parser.parse_args(argv)
    use_docker = docker_answers() if args.docker == "auto" else args.docker == "yes"
    for service in args.services:
        out = os.path.join(args.out, "%s.oci.tar" % service)
        digest = build_archive(service, out)
        print("archive: %s -> %s (%s)" % (service, os.path.relpath(out, os.getcwd()), digest))
        if use_docker:
            image_id = docker_build(service)
            print("docker: %s:latest (%s)" % (service, image_id))
    if not use_docker:
        print("docker: no engine answers; image_push will use method archive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
