# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fargate_cluster role's stack names, from YAML (the names are the model's, module_utils/_lab.py), and the
template it deploys (the role and lab_info's plan read the same file)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

# The role's own template, in the collection beside this plugin (plugins/filter -> roles/fargate_cluster/files).
ROLE_TEMPLATE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "roles", "fargate_cluster", "files", "fargate-cluster.cfn.yml")


def fargate_cluster_stack_names(requested_name, stack_name=""):
    """Every stack the role may have made: for the requested name and for its "-c" fallback."""
    return _lab.stacks(requested_name, stack_name)


def fargate_cluster_template(template_path=""):
    """The file of the template the role deploys: ``template_path`` (fargate_cluster_template_path, a relative path
    read from the current folder) or, empty, the role's own."""
    if template_path:
        return os.path.realpath(os.path.expanduser(template_path))
    return ROLE_TEMPLATE


class FilterModule(object):
    def filters(self):
        return {"fargate_cluster_stack_names": fargate_cluster_stack_names,
                "fargate_cluster_template": fargate_cluster_template}
