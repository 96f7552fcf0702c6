# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the image_push role's inputs, and that every image to push is there and is an image.

Runs on the controller inside the ``cloudlab.microservices.preflight`` action,
before any ECR repository is created: with method ``archive`` (or ``auto``
and no Docker engine) it reads each archive's index and manifests (not the
layers: ecr_image_push hashes those before it uploads); with ``docker`` (or
``auto`` and an engine) it asks the engine for each image.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._docker_engine import Engine
from ansible_collections.cloudlab.microservices.plugins.module_utils._docker_engine import EngineError
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import ImageSourceError
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import check_image
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import default_archive

ENTRY = "its entry in microservices"


def archive_problems(services, archive_dir):
    problems = []
    for svc in services:
        if svc.get("archive"):
            path, where = svc["archive"], "set the `archive` key of %s" % ENTRY
        else:
            path = default_archive(archive_dir or "", svc["name"])
            where = "set image_push_archive_dir, or the `archive` key of %s" % ENTRY
        try:
            check_image(os.path.expanduser(path))
        except ImageSourceError as e:
            problems.append("service %s: bad image archive: %s; build the images with `make images`, or %s"
                            % (svc["name"], e, where))
    return problems


def image_problems(engine, services):
    problems = []
    for svc in services:
        try:
            found = engine.image(svc["image"])
        except EngineError as e:
            problems.append("service %s: cannot read the Docker image %s: %s" % (svc["name"], svc["image"], e))
            continue
        if found is None:
            problems.append("service %s: the Docker image %s is not in the engine at %s; build it with `make images`, "
                            "or set the `image` key of %s, or image_push_method=archive"
                            % (svc["name"], svc["image"], engine.host, ENTRY))
    return problems


def check(values, services=None, engine=None):
    """One line per problem: the variable (or service entry), the value, what to do."""
    problems = []
    tag = values.get("image_push_tag")
    if tag is not None and _lab.name_problem("ecr_tag", tag):
        problems.append("image_push_tag is %s: %s" % (_lab.quote(tag), _lab.name_problem("ecr_tag", tag)))
    timeout = values.get("image_push_verify_timeout")
    if timeout is not None and timeout < 0:
        problems.append("image_push_verify_timeout is %r: it must be 0 or more seconds" % timeout)
    if services is None or problems:
        return problems
    method = values.get("image_push_method") or "auto"
    if method != "archive":
        engine = engine or Engine()
        if engine.answers():
            return image_problems(engine, services)
        if method == "docker":
            return ["image_push_method is docker but no Docker engine answers at %s: start it or set DOCKER_HOST, "
                    "or set image_push_method to archive (or auto)" % engine.host]
    return archive_problems(services, values.get("image_push_archive_dir"))
