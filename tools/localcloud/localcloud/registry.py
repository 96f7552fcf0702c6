"""ECR's registry side: Debian's docker-registry (CNCF distribution) on 127.0.0.1.

moto speaks no registry protocol (/v2/), so `docker login` / `docker push` to
a repository URI need a real registry. The local cloud spawns one with an
htpasswd user AWS whose password is made at start and handed out by
GetAuthorizationToken.

Its storage (distribution's filesystem layout) is the one image store of ECR:
what docker pushes is read from it, and the ECR API (layer uploads, PutImage,
BatchDeleteImage) writes into it in the same layout, so that both paths see
the same blobs, manifests and tags. The store works whether or not the
registry process runs; the registry keeps no cache of it (see _config).
"""
import base64
import logging
import os
import re
import secrets
import shutil
import subprocess
import time
import uuid
import urllib.error
import urllib.request

from localcloud.common import die_with_parent, free_port, port_free, stop_process

LOG = logging.getLogger("localcloud.registry")
# distribution's own tag grammar: a tag that does not match is not written to the store.
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _bcrypt_line(user, password):
    try:
        import bcrypt
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
    except ImportError:
        # glibc's crypt knows bcrypt; the module is deprecated but still in Python 3.11/3.12.
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    return "%s:%s\n" % (user, hashed)


class Registry:
    USER = "AWS"

    def __init__(self, state_dir, cloud_port, port=None, host="127.0.0.1"):
        self.dir = os.path.join(state_dir, "registry")
        self.storage = os.path.join(self.dir, "storage")
        self.host = host
        self.cloud_port = cloud_port
        self.wanted_port = port
        self.port = None
        self.password = secrets.token_urlsafe(32)
        self.proc = None
        self.reason = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port) if self.running else None

    def token(self):
        return base64.b64encode(("%s:%s" % (self.USER, self.password)).encode()).decode()

    def _choose_port(self):
        if self.wanted_port == 0:
            return free_port(self.host)
        if self.wanted_port is not None:
            return self.wanted_port
        default = self.cloud_port + 1
        if default < 65536 and port_free(self.host, default):
            return default
        port = free_port(self.host)
        LOG.warning("registry: default port %d is taken, using %d", default, port)
        return port

    def start(self, timeout=20):
        binary = shutil.which("docker-registry")
        if not binary:
            self.reason = "docker-registry is not installed (apt-get install docker-registry)"
            LOG.warning("registry side off: %s; GetAuthorizationToken still answers", self.reason)
            return False
        self.port = self._choose_port()
        if not port_free(self.host, self.port):
            self.reason = "registry port %d on %s is already in use" % (self.port, self.host)
            LOG.error("registry side off: %s; choose --registry-port", self.reason)
            return False
        os.makedirs(self.storage, exist_ok=True)
        htpasswd = os.path.join(self.dir, "htpasswd")
        with open(htpasswd, "w") as handle:
            handle.write(_bcrypt_line(self.USER, self.password))
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as handle:
            handle.write(self._config(htpasswd))
        log = open(os.path.join(self.dir, "registry.log"), "ab")
        self.proc = subprocess.Popen([binary, "serve", config], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.reason = "docker-registry exited (code %s), see %s/registry.log" % (
                    self.proc.returncode, self.dir)
                LOG.error("registry side off: %s", self.reason)
                self.proc = None
                return False
            try:
                urllib.request.urlopen("http://%s:%d/v2/" % (self.host, self.port), timeout=1)
                break
            except urllib.error.HTTPError:
                break  # 401: up, and asking for credentials as it should
            except Exception:
                time.sleep(0.1)
        LOG.info("registry side on %s:%d (user AWS, storage %s)", self.host, self.port, self.storage)
        return True

    def _config(self, htpasswd):
        # Plain HTTP on 127.0.0.1 (docker trusts loopback registries without TLS);
        # no blob descriptor cache, so that a reset of the storage on disk is seen at once.
        return "\n".join([
            "version: 0.1",
            "log:",
            "  level: warn",
            "storage:",
            "  filesystem:",
            "    rootdirectory: %s" % self.storage,
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            "  addr: %s:%d" % (self.host, self.port),
            "  secret: %s" % secrets.token_hex(16),
            "auth:",
            "  htpasswd:",
            "    realm: localcloud-ecr",
            "    path: %s" % htpasswd,
            "notifications:",
            "  endpoints:",
            "    - name: localcloud",
            "      url: http://127.0.0.1:%d/_localcloud/registry/events" % self.cloud_port,
            "      timeout: 2s",
            "      threshold: 5",
            "      backoff: 1s",
            "",
        ])

    def stop(self):
        stop_process(self.proc, 10)
        self.proc = None

    # -- the store: distribution's filesystem layout ---------------------------
    # docker/registry/v2/blobs/sha256/<2>/<hex>/data                      content
    # .../repositories/<repo>/_layers/sha256/<hex>/link                   blob of the repository
    # .../repositories/<repo>/_manifests/revisions/sha256/<hex>/link      manifest of the repository
    # .../repositories/<repo>/_manifests/tags/<tag>/current/link          what the tag points at
    # .../repositories/<repo>/_manifests/tags/<tag>/index/sha256/<hex>/link  where it pointed
    def _v2(self, *parts):
        return os.path.join(self.storage, "docker", "registry", "v2", *parts)

    @staticmethod
    def _hex(digest):
        algo, _, hexa = (digest or "").partition(":")
        if algo != "sha256" or not re.match(r"^[a-f0-9]{64}$", hexa):
            raise ValueError("not a sha256 digest: %r" % (digest,))
        return hexa

    def _data_path(self, digest):
        hexa = self._hex(digest)
        return self._v2("blobs", "sha256", hexa[:2], hexa, "data")

    def _repo(self, repository, *parts):
        if not repository or repository.startswith("/") or ".." in repository.split("/"):
            raise ValueError("not a repository name: %r" % (repository,))
        return self._v2("repositories", repository, *parts)

    @staticmethod
    def _write_atomic(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = "%s.%s.tmp" % (path, uuid.uuid4().hex)
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

    def blob_path(self, digest):
        try:
            path = self._data_path(digest)
        except ValueError:
            return None
        return path if os.path.isfile(path) else None

    def has_layer(self, repository, digest):
        if not self.blob_path(digest):
            return False
        return os.path.isfile(self._repo(repository, "_layers", "sha256", self._hex(digest), "link"))

    def has_manifest(self, repository, digest):
        if not self.blob_path(digest):
            return False
        return os.path.isfile(self._repo(repository, "_manifests", "revisions", "sha256",
                                         self._hex(digest), "link"))

    def tags(self, repository):
        """{tag: manifest digest} as the registry stores them."""
        tags_dir = self._repo(repository, "_manifests", "tags")
        found = {}
        try:
            names = os.listdir(tags_dir)
        except OSError:
            return found
        for tag in names:
            try:
                with open(os.path.join(tags_dir, tag, "current", "link")) as handle:
                    found[tag] = handle.read().strip()
            except OSError:
                continue
        return found

    def manifest(self, digest):
        path = self.blob_path(digest)
        if not path:
            return None
        with open(path, "rb") as handle:
            return handle.read()

    def add_layer(self, repository, digest, source):
        """Move the file `source` (whose sha256 is `digest`) into the store, as a blob of `repository`."""
        target = self._data_path(digest)
        if os.path.isfile(target):
            os.unlink(source)  # same digest, same bytes
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(source, target)
        self._write_atomic(self._repo(repository, "_layers", "sha256", self._hex(digest), "link"),
                           digest.encode())

    def put_manifest(self, repository, digest, data, tag=None):
        """Store manifest bytes (sha256 `digest`) in `repository`; point `tag` at it if given."""
        hexa = self._hex(digest)
        target = self._data_path(digest)
        if not os.path.isfile(target):
            self._write_atomic(target, data)
        self._write_atomic(self._repo(repository, "_manifests", "revisions", "sha256", hexa, "link"),
                           digest.encode())
        if tag is None:
            return
        if not TAG_RE.match(tag):
            LOG.warning("tag %r of %s is not a registry tag; not served by the registry side", tag, repository)
            return
        tag_dir = self._repo(repository, "_manifests", "tags", tag)
        self._write_atomic(os.path.join(tag_dir, "index", "sha256", hexa, "link"), digest.encode())
        self._write_atomic(os.path.join(tag_dir, "current", "link"), digest.encode())

    def remove_tag(self, repository, tag, digest=None):
        """Remove `tag` (only if it still points at `digest`, when given)."""
        if not TAG_RE.match(tag or ""):
            return
        if digest is not None and self.tags(repository).get(tag) != digest:
            return
        shutil.rmtree(self._repo(repository, "_manifests", "tags", tag), ignore_errors=True)

    def remove_manifest(self, repository, digest):
        """Forget the manifest `digest` of `repository` and every tag pointing at it."""
        for tag, current in self.tags(repository).items():
            if current == digest:
                self.remove_tag(repository, tag)
        shutil.rmtree(self._repo(repository, "_manifests", "revisions", "sha256", self._hex(digest)),
                      ignore_errors=True)

    def forget_repository(self, repository):
        try:
            shutil.rmtree(self._repo(repository), ignore_errors=True)
        except ValueError:
            pass

    def reset(self):
        shutil.rmtree(os.path.join(self.storage, "docker"), ignore_errors=True)
