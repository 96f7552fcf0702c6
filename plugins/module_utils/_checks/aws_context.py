# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the aws_context role's inputs that a type cannot say."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
DB_ID_RE = re.compile(r"^[A-Za-z](?:-?[A-Za-z0-9]){0,62}$")


def check(values, services=None):
    """One line per problem: the variable, the value, what is allowed."""
    problems = []
    vpc = values.get("aws_context_vpc_name")
    if vpc is not None and not vpc.strip():
        problems.append("aws_context_vpc_name is empty: set it to the Name tag of the lab's VPC (LabVPC)")
    subnets = values.get("aws_context_subnet_names")
    if subnets is not None:
        if not subnets:
            problems.append("aws_context_subnet_names is empty: list the Name tags of the public subnets "
                            "(PublicSubnet1, PublicSubnet2)")
        blank = [s for s in subnets if not str(s).strip()]
        dups = sorted(set(s for s in subnets if subnets.count(s) > 1))
        if blank:
            problems.append("aws_context_subnet_names has an empty name (got %r): each must be a subnet's Name tag"
                            % (subnets,))
        if dups:
            problems.append("aws_context_subnet_names names %s more than once (got %r): list distinct Name tags"
                            % (", ".join(dups), subnets))
    for variable, required in (("aws_context_pipeline_role_name", True), ("aws_context_deploy_role_name", False)):
        value = values.get(variable)
        if value is None or (value == "" and not required):
            continue
        if not ROLE_NAME_RE.match(value):
            problems.append("%s is %r: an IAM role name is 1 to 64 letters, digits or + = , . @ _ -%s"
                            % (variable, value, "" if required else ", or '' to skip the lookup"))
    db = values.get("aws_context_db_instance")
    if db and not DB_ID_RE.match(db):
        problems.append("aws_context_db_instance is %r: an RDS identifier starts with a letter, has letters, digits "
                        "and single hyphens, at most 63 characters, or '' to skip the lookup" % db)
    return problems
