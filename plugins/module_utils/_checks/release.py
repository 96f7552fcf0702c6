# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the release role's inputs: which service, and what is released.

Runs on the controller inside the ``cloudlab.microservices.preflight`` action, before anything is pushed:
the service is one of the list; exactly one of an archive, a Docker image, a commit, an execution to follow
again or a stop says what the release is; an archive is read (its index and manifests) now.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import ImageSourceError
from ansible_collections.cloudlab.microservices.plugins.module_utils._oci import check_image

WHAT = ("release_archive", "release_image", "release_commit", "release_execution_id")
COMMIT_HEAD = "head"


def release_kind(values):
    """What the release is: archive, docker, commit, execution or stop (None when it cannot tell)."""
    if values.get("release_stop"):
        return "stop"
    given = [name for name in WHAT if values.get(name)]
    if len(given) != 1:
        return None
    return {"release_archive": "archive", "release_image": "docker", "release_commit": "commit",
            "release_execution_id": "execution"}[given[0]]


def check(values, services=None):
    """One line per problem: the variable, its value, what to do."""
    problems = []
    service = values.get("release_service")
    names = [svc["name"] for svc in services or []]
    if not service:
        problems.append("release_service is not set: give the service to release, -e release_service=employee")
    elif services is not None and service not in names:
        problems.append("release_service is %s: not a service of the list (%s)" % (service, ", ".join(names)))
    given = [name for name in WHAT if values.get(name)]
    if not values.get("release_stop") and len(given) != 1:
        problems.append("say what to release with exactly one of release_archive (an image archive), release_image "
                        "(a local Docker image), release_commit (a commit on dev, or `head`) or release_execution_id "
                        "(follow a release again), or release_stop=true%s"
                        % ("; %s are all set" % ", ".join(given) if given else ""))
    for name in ("release_timeout", "release_start_timeout"):
        if values.get(name) is not None and values[name] < 1:
            problems.append("%s is %r: it must be 1 second or more" % (name, values[name]))
    if values.get("release_poll") is not None and values["release_poll"] <= 0:
        problems.append("release_poll is %r: it must be more than 0 seconds" % values["release_poll"])
    archive = values.get("release_archive")
    if archive and not problems:
        try:
            check_image(os.path.expanduser(archive))
        except ImageSourceError as e:
            problems.append("release_archive is %s: %s" % (archive, e))
    return problems
