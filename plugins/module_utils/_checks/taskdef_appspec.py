# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the taskdef_appspec role's inputs that span variables (see _checks/__init__.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.six import string_types

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
# A repository URI as ECR gives it, without tag or digest: <registry host[:port]>/<repository>.
IMAGE_URI_RE = re.compile(r"^[a-z0-9.-]+(:[0-9]{1,5})?/[a-z0-9]+(?:[._/-][a-z0-9]+)*$")
LOG_GROUP_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")


def check(values, services):
    problems = []
    names = [s["name"] for s in services or []]

    uris = values.get("taskdef_appspec_image_uris") or {}
    if not isinstance(uris, dict):
        problems.append("taskdef_appspec_image_uris must map service names to repository URIs (ecr_repos_uris)")
        uris = {}
    for name in names:
        uri = uris.get(name)
        # '' is a repository still to be created (check mode): no URI yet, none is invented.
        if uri and (not isinstance(uri, string_types) or not IMAGE_URI_RE.match(uri)):
            problems.append("taskdef_appspec_image_uris[%s] is %r: it must be a repository URI without tag, such as "
                            "123456789012.dkr.ecr.us-east-1.amazonaws.com/%s" % (name, uri, name))
    # The URIs come from ecr_repos, which runs after a playbook's preflight: an empty map is
    # checked again when the task definitions are built for registration.
    missing = [n for n in names if n not in uris]
    if uris and missing:
        problems.append("taskdef_appspec_image_uris has no repository URI for %s (wire ecr_repos_uris into "
                        "taskdef_appspec_image_uris)" % ", ".join(missing))

    db_host = values.get("taskdef_appspec_db_host") or ""
    no_db = [s["name"] for s in services or [] if not (s.get("db_host") or db_host)]
    if no_db:
        problems.append("taskdef_appspec_db_host is empty and %s set%s no `db_host`, so there is no APP_DB_HOST: "
                        "wire the endpoint of RDS instance supplierdb (aws_context_db_host; start the lab's "
                        "database, on the local cloud `make lab`), or set db_host per service"
                        % (", ".join(no_db), "s" if len(no_db) == 1 else ""))

    arn = values.get("taskdef_appspec_execution_role_arn") or ""
    if not _lab.ROLE_ARN_RE.match(arn):
        problems.append("taskdef_appspec_execution_role_arn is %r: it must be the ARN of an IAM role, such as "
                        "arn:aws:iam::123456789012:role/PipelineRole (wire aws_context_pipeline_role_arn)" % arn)

    region = values.get("taskdef_appspec_region")
    if region is not None and not REGION_RE.match(str(region)):
        problems.append("taskdef_appspec_region is %r: it must be a region name such as us-east-1" % region)

    branch = values.get("taskdef_appspec_branch")
    if branch is not None:
        why = _lab.branch_problem(branch)
        if why:
            problems.append("taskdef_appspec_branch is %r, which git refuses as a branch name: %s" % (branch, why))

    if "taskdef_appspec_dir" in values and not (values.get("taskdef_appspec_dir") or "").strip():
        problems.append("taskdef_appspec_dir is empty: it must be the deployment folder, such as ~/deployment")

    remote = values.get("taskdef_appspec_remote_url") or ""
    if remote and re.search(r"\s", remote):
        problems.append("taskdef_appspec_remote_url is %r: a git URL holds no blank" % remote)

    for key in ("taskdef_appspec_git_author_name", "taskdef_appspec_git_author_email"):
        if key in values and not (values.get(key) or "").strip():
            problems.append("%s is empty: commits need an author" % key)

    group = values.get("taskdef_appspec_log_group")
    if group is not None and not LOG_GROUP_RE.match(str(group)):
        problems.append("taskdef_appspec_log_group is %r: a CloudWatch Logs group name is 1 to 512 letters, digits "
                        "and . - _ / #" % group)
    return problems
