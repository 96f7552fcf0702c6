# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The fields of a `services` entry (the `microservices` list), as module_utils/_services.py's
    SERVICE_OPTIONS declares and check_service fills them in.

    A module lists ``cloudlab.microservices.services`` and says in its own ``services`` option which fields it
    uses and whether the list is required; the fields come from here.
    """

    DOCUMENTATION = r"""
options:
  services:
    description: The services, as the C(microservices) list of the collection's README.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Service name; at once the ECR repository, the container and part of every name the lab derives
            from it.
          - Lower case letters, digits and C(-), starting and ending with a letter or digit, 2 to 25 characters.
        type: str
        required: true
      port:
        description: Container port, 1 to 65535; unset, 8080.
        type: int
      cpu:
        description: Fargate task CPU units, a string or a number; unset, 512.
        type: raw
      memory:
        description: Fargate task memory in MiB, a string or a number that Fargate pairs with O(services[].cpu); unset, 1024.
        type: raw
      family:
        description: Task definition family; unset, C(<name>-microservice).
        type: str
      environment:
        description: Extra container environment, a dict of NAME to a string, number or boolean.
        type: dict
      db_host:
        description: C(APP_DB_HOST) of the container.
        type: str
      image:
        description: Local Docker image pushed as latest; unset, C(<name>:latest).
        type: str
      archive:
        description: OCI layout or archive, or C(docker save) tarball, pushed as latest.
        type: str
      health_check_path:
        description: Health check path of the service's target groups; unset, C(/).
        type: str
      path_pattern:
        description: Load balancer path pattern routed to the service; every service but the first needs one.
        type: str
      source_cidrs:
        description:
          - Source addresses (CIDRs) let through the service's path rule on both listeners (Phase 9.1); at most 4.
          - The first service, the listeners' default action, cannot have it.
        type: list
        elements: str
      desired_count:
        description:
          - Number of tasks, converged when set, 0 to 5000.
          - Unset, a new service starts with 1 and keeps any later count.
        type: int
"""
