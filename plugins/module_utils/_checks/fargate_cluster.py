# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the fargate_cluster role's inputs that a type or a choice cannot say."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.cloudlab.microservices.plugins.module_utils import _cluster as rules
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab


def check(values, services=None):
    """One line per problem: the variable, the value, what is allowed."""
    problems = []
    stack_name = values.get("fargate_cluster_stack_name") or ""
    if stack_name and not rules.STACK_NAME_RE.match(stack_name):
        problems.append("fargate_cluster_stack_name is %r: a stack name starts with a letter and holds only "
                        "letters, digits and '-', at most 128 characters, or '' for %s<cluster>"
                        % (stack_name, _lab.STACK_PREFIX))
    requested = values.get("fargate_cluster_requested_name")
    if requested is not None:
        problem = rules.requested_name_problem(requested, stack_name)
        if problem:
            problems.append(problem)
    vpc = values.get("fargate_cluster_vpc_id")
    if vpc is not None and not _lab.VPC_ID_RE.match(vpc):
        problems.append("fargate_cluster_vpc_id is %r: a VPC id (vpc-...) is needed; the playbook passes "
                        "aws_context_vpc_id (LabVPC)" % vpc)
    subnets = values.get("fargate_cluster_subnet_ids")
    if subnets is not None:
        bad = [s for s in subnets if not _lab.SUBNET_ID_RE.match(str(s))]
        if not subnets or bad:
            problems.append("fargate_cluster_subnet_ids is %r: a non-empty list of subnet ids (subnet-...) is needed; "
                            "the playbook passes aws_context_subnet_ids (PublicSubnet1, PublicSubnet2)" % (subnets,))
        elif len(set(subnets)) != len(subnets):
            problems.append("fargate_cluster_subnet_ids is %r: list each subnet once" % (subnets,))
    groups = values.get("fargate_cluster_security_group_ids") or []
    bad = [g for g in groups if not _lab.SG_ID_RE.match(str(g))]
    if bad:
        problems.append("fargate_cluster_security_group_ids is %r: security group ids (sg-...) or an empty list"
                        % (groups,))
    namespace = values.get("fargate_cluster_service_connect_namespace") or ""
    if namespace and not rules.NAMESPACE_RE.match(namespace):
        problems.append("fargate_cluster_service_connect_namespace is %r: a namespace name (letters, digits, '.', "
                        "'-', '_', at most 1024), or '' for the cluster's name" % namespace)
    tags = values.get("fargate_cluster_tags") or {}
    long_keys = sorted(str(k) for k in tags if len(str(k)) > 128)
    if len(tags) > 50 or long_keys:
        problems.append("fargate_cluster_tags has %d tags%s: a stack takes at most 50, keys of at most 128 characters"
                        % (len(tags), (", long keys %s" % ", ".join(long_keys)) if long_keys else ""))
    path = values.get("fargate_cluster_template_path") or ""
    if path and not os.path.isfile(os.path.expanduser(path)):
        problems.append("fargate_cluster_template_path is %r: not a readable file; leave it '' for the role's "
                        "template" % path)
    return problems
