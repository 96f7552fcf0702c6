# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the codedeploy and pipelines roles: the lab's names and declarations, from the service list.

The names live in module_utils/_lab.py, the rules in _codedeploy and _pipeline, with unit tests; these filters only expose
them to YAML so that a role's task stays one line of Jinja.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline


def codedeploy_groups(services, values):
    return _codedeploy.role_groups(services, values)


def codedeploy_group_names(services, application):
    return dict((s["name"], _lab.deployment_group(application, s["name"])) for s in services)


def listener_arns(load_balancers, ports):
    return _codedeploy.listener_arns(load_balancers, ports)


def pipeline_entries(services, values):
    return _pipeline.role_pipelines(services, values)


def pipeline_names(services):
    return dict((s["name"], _lab.pipeline(s["name"])) for s in services)


def artifact_bucket(bucket, region, account):
    return bucket or _lab.artifact_bucket(region, account)


class FilterModule(object):
    def filters(self):
        return {
            "codedeploy_groups": codedeploy_groups,
            "codedeploy_group_names": codedeploy_group_names,
            "listener_arns": listener_arns,
            "pipeline_entries": pipeline_entries,
            "pipeline_names": pipeline_names,
            "artifact_bucket": artifact_bucket,
        }
