# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fargate_cluster role's stack names, from YAML (the names are the model's, module_utils/_lab.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab


def fargate_cluster_stack_names(requested_name, stack_name=""):
    """Every stack the role may have made: for the requested name and for its "-c" fallback."""
    return _lab.stacks(requested_name, stack_name)


class FilterModule(object):
    def filters(self):
        return {"fargate_cluster_stack_names": fargate_cluster_stack_names}
