#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: preflight
short_description: Refuse a role's bad input before anything changes
version_added: 1.0.0
description:
  - An action that runs on the controller only (no module is sent to a host, so it costs no module run).
  - Inside a role, validates the role's variables against the C(main) options of its
    C(meta/argument_specs.yml) (types, choices, required) and answers with one line per problem that names
    the variable, the value and what is allowed, instead of a dump of the specification.
  - With O(services), checks the service list held by that variable with the rules of a C(microservices)
    entry (keys, unknown keys with the closest allowed key, names, ports, Fargate sizes, families,
    environment, health check paths, path patterns, duplicates) and returns it with every key filled in.
  - Then runs the rules of the role that span several variables (C(plugins/module_utils/_checks/<role>.py)).
  - A role reused alone thus refuses exactly what a playbook of this collection refuses.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  services:
    description:
      - Name of the variable that holds a service list (for instance C(microservices) or C(ecr_repos_services)).
      - The messages name this variable.
    type: str
  service_defaults:
    description: Values of C(port), C(cpu), C(memory), C(health_check_path) for entries that set none.
    type: dict
  role:
    description:
      - Run the cross-variable rules of this role, without the argument spec check (for a playbook's preflight,
        which runs outside the role). Inside a role, the role is found by itself.
    type: str
  roles:
    description:
      - Check the inputs of these roles of the collection from one task, as each role checks them itself
        (its C(main) argument spec, its list C(<role>_services) when it has one, its rules), with the role's
        own defaults for the variables that are not set. For a playbook's preflight, one task and one line
        of output for several roles. The roles are checked in their order, as they would run; the first role
        at fault is named with every problem of its inputs.
      - With O(roles), O(services), O(service_defaults) and O(role) are not used.
    type: list
    elements: str
extends_documentation_fragment:
  - cloudlab.microservices.attributes
attributes:
  check_mode:
    support: full
    details: Reads variables only.
  diff_mode:
    support: none
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Check the role's inputs
  cloudlab.microservices.preflight:
    services: ecr_repos_services
  register: __ecr_repos_preflight

- name: Check the playbook's service list before any role runs
  cloudlab.microservices.preflight:
    services: microservices

- name: Check the inputs of the codedeploy and pipelines roles before any of them runs
  cloudlab.microservices.preflight:
    roles: [codedeploy, pipelines]
"""

RETURN = r"""
roles:
  description: With O(roles), each role's service list with every key filled in (null for a role without one).
  returned: when O(roles) is given
  type: dict
  sample:
    codedeploy:
      services:
        - name: customer
          port: 8080
services:
  description: The service list with every key filled in (null without O(services)).
  returned: success
  type: list
  elements: dict
  sample:
    - name: customer
      port: 8080
      cpu: "512"
      memory: "1024"
      family: customer-microservice
      environment: {}
      db_host: ""
      image: customer:latest
      archive: ""
      health_check_path: /
      path_pattern: ""
"""
