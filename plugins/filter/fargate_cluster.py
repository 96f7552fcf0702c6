# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fargate_cluster role's stack names, from YAML (the rule is in module_utils/_cluster.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _cluster as rules


def fargate_cluster_stack_names(requested_name, stack_name=""):
    """Every stack the role may have made: for the requested name and for its "-c" fallback."""
    names = []
    for name in rules.candidates(requested_name):
        stack = rules.stack_name_for(name, stack_name)
        if stack not in names:
            names.append(stack)
    return names


class FilterModule(object):
    def filters(self):
        return {"fargate_cluster_stack_names": fargate_cluster_stack_names}
