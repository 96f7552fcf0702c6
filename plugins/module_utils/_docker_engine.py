# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The three reads of a Docker engine that pushing its images needs.

Whether the engine answers (``GET /_ping``), what it holds under a reference
(``GET /images/<ref>/json``), and the image itself as ``docker save`` writes
it (``GET /images/get``), which ``_oci.load_image`` reads like any archive.
Nothing here changes the engine.

The engine is found as the docker CLI finds it: ``DOCKER_HOST``
(``unix://`` or ``tcp://``; ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``
for TLS), else ``unix:///var/run/docker.sock``.

Why not community.docker: its modules log in to a registry and push one image
per run; its API client is private to it. These reads are plain HTTP.

Private to this collection: the module_utils API may change at any time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import json
import os
import socket
import ssl
from urllib.parse import quote
from urllib.parse import urlencode
from urllib.parse import urlparse

DEFAULT_HOST = "unix:///var/run/docker.sock"
CHUNK = 1024 * 1024


class EngineError(Exception):
    """The engine cannot be reached, or answered with an error."""


def engine_host(docker_host=None):
    """The engine's address: the argument, DOCKER_HOST, or the default socket."""
    return docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def image_ref(ref):
    """A reference with a tag: 'customer' -> 'customer:latest'."""
    last = ref.split("/")[-1]
    return ref if (":" in last or "@" in last) else ref + ":latest"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Engine(object):
    """A Docker engine, read only."""

    def __init__(self, docker_host=None, timeout=60):
        self.host = engine_host(docker_host)
        self.timeout = timeout

    def _connection(self, timeout):
        parsed = urlparse(self.host)
        if parsed.scheme == "unix":
            return _UnixConnection(parsed.path, timeout)
        if parsed.scheme in ("tcp", "http", "https"):
            tls = parsed.scheme == "https" or os.environ.get("DOCKER_TLS_VERIFY") not in (None, "", "0")
            port = parsed.port or (2376 if tls else 2375)
            if not tls:
                return http.client.HTTPConnection(parsed.hostname, port, timeout=timeout)
            context = ssl.create_default_context()
            certs = os.environ.get("DOCKER_CERT_PATH") or os.path.expanduser("~/.docker")
            if os.path.isfile(os.path.join(certs, "ca.pem")):
                context.load_verify_locations(os.path.join(certs, "ca.pem"))
            if os.path.isfile(os.path.join(certs, "cert.pem")):
                context.load_cert_chain(os.path.join(certs, "cert.pem"), os.path.join(certs, "key.pem"))
            return http.client.HTTPSConnection(parsed.hostname, port, timeout=timeout, context=context)
        raise EngineError("the Docker engine address %s is not supported (unix:// or tcp://); set DOCKER_HOST"
                          % self.host)

    def _get(self, path, timeout=None):
        """(connection, response) of a GET; the caller closes the connection."""
        connection = self._connection(timeout or self.timeout)
        try:
            connection.request("GET", path, headers={"Host": "docker"})
            return connection, connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise EngineError("the Docker engine at %s does not answer: %s" % (self.host, exc))

    def _json(self, path):
        connection, response = self._get(path)
        try:
            body = response.read()
        finally:
            connection.close()
        if response.status == 404:
            return None
        if response.status != 200:
            raise EngineError("the Docker engine at %s answered %s to GET %s: %s"
                              % (self.host, response.status, path, _message(body)))
        return json.loads(body.decode("utf-8"))

    def answers(self, timeout=5):
        """Whether an engine answers at the address."""
        try:
            connection, response = self._get("/_ping", timeout)
        except EngineError:
            return False
        try:
            response.read()
        finally:
            connection.close()
        return response.status == 200

    def image(self, ref):
        """What `docker image inspect <ref>` shows (Id, RepoTags, RepoDigests...), or None."""
        return self._json("/images/%s/json" % quote(image_ref(ref), safe=""))

    def export(self, ref, handle):
        """Write the image as `docker save <ref>` does into the open binary file ``handle``."""
        connection, response = self._get("/images/get?" + urlencode({"names": image_ref(ref)}))
        try:
            if response.status != 200:
                raise EngineError("the Docker engine at %s cannot export %s: %s"
                                  % (self.host, ref, _message(response.read())))
            while True:
                data = response.read(CHUNK)
                if not data:
                    break
                handle.write(data)
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError("the Docker engine at %s stopped exporting %s: %s" % (self.host, ref, exc))
        finally:
            connection.close()


def _message(body):
    try:
        return json.loads(body.decode("utf-8")).get("message") or body[:200]
    except (ValueError, UnicodeDecodeError, AttributeError):
        return body[:200]
