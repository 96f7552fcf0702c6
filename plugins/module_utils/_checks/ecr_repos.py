# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the ecr_repos role's inputs that a type or a choice cannot say.

Service names are checked by ``_services`` (a service name is also an ECR
repository name); the choices (policy scope, mutability, encryption) by the
role's argument spec.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
PARTITION_RE = re.compile(r"^aws(-[a-z]+)*$")


def check(values, services=None):
    """One line per problem: the variable, the value, what is allowed."""
    problems = []
    keep = values.get("ecr_repos_untagged_keep")
    if keep is not None and keep < 1:
        problems.append("ecr_repos_untagged_keep is %r: it must be 1 or more (untagged images kept)" % keep)
    account = values.get("ecr_repos_account_id")
    if account and not ACCOUNT_RE.match(account):
        problems.append("ecr_repos_account_id is %r: an AWS account id is 12 digits, or '' to read it from the "
                        "caller identity" % account)
    partition = values.get("ecr_repos_partition")
    if partition and not PARTITION_RE.match(partition):
        problems.append("ecr_repos_partition is %r: a partition is aws, aws-cn or aws-us-gov, or '' to read it "
                        "from the caller identity" % partition)
    tags = values.get("ecr_repos_tags") or {}
    long_keys = sorted(k for k in tags if len(str(k)) > 128)
    if long_keys or len(tags) > 50:
        problems.append("ecr_repos_tags has %d tags%s: ECR allows at most 50, keys of at most 128 characters"
                        % (len(tags), " and keys over 128 characters" if long_keys else ""))
    return problems
