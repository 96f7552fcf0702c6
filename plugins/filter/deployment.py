# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment files and task definitions of the lab, built once in Python.

``deployment_files`` builds every service's ``taskdef-<name>.json`` and
``appspec-<name>.yaml`` and checks each pair (botocore's ECS model, the image
placeholder exactly once, the AppSpec's container and port in the task
definition); ``with_images`` turns the committed task definitions into the
ones that are registered, with the real image; ``registered_unchanged`` says
whether they are already their families' latest revisions. The rules are in
module_utils/_taskdef.py; these filters only reach them from YAML.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import BuildError
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import build
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import unchanged
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import with_images as _with_images


def deployment_files(services, settings):
    try:
        return build(services, settings)
    except BuildError as e:
        raise AnsibleFilterError(str(e))


def _plain(value):
    """Plain data: the builders copy what they take, and copying templating's lazy containers is slow."""
    return json.loads(json.dumps(value))


def with_images(built, image_uris, variable="image_uris", tag="latest"):
    try:
        return _with_images(_plain(built["task_definitions"]), _plain(built["containers"]), _plain(image_uris or {}),
                            tag=tag, variable=variable)
    except BuildError as e:
        raise AnsibleFilterError(str(e))


def registered_unchanged(task_definitions, registered):
    if not isinstance(task_definitions, list) or not isinstance(registered, dict):
        raise AnsibleFilterError("registered_unchanged: the input must be the task definitions to register (a list) "
                                 "and the argument the registered ones by family (a dict)")
    return unchanged(_plain(task_definitions), _plain(registered))


class FilterModule(object):
    def filters(self):
        return {
            "deployment_files": deployment_files,
            "with_images": with_images,
            "registered_unchanged": registered_unchanged,
        }
