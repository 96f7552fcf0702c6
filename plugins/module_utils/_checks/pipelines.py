# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the pipelines role's inputs that span variables (run by the preflight action)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import pipeline_name

ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
PIPELINE_NAME_RE = re.compile(r"^[A-Za-z0-9.@_-]{1,100}$")
# S3 bucket names: 3 to 63 lower case letters, digits, '.', '-', starting and ending with a letter or digit.
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REPO_RE = re.compile(r"^[\w.-]{1,100}$")
BRANCH_RE = re.compile(r"^[^\s~^:?*\[\\]{1,256}$")


def check(values, services):
    problems = []
    names = [s["name"] for s in services or []]
    for name in names:
        if not PIPELINE_NAME_RE.match(pipeline_name(name)):
            problems.append("pipelines_services: service %s makes pipeline name %r, longer than 100 characters"
                            % (name, pipeline_name(name)))
    if values.get("pipelines_state", "present") == "absent":
        return problems
    for key in ("pipelines_role_arn", "pipelines_events_role_arn"):
        role = values.get(key) or ""
        if (role or key == "pipelines_role_arn") and not ROLE_ARN_RE.match(role):
            problems.append("%s %r is not an IAM role ARN%s" % (
                key, role, ": wire aws_context_pipeline_role_arn (the lab's PipelineRole)"
                if key == "pipelines_role_arn" else ""))
    bucket = values.get("pipelines_artifact_bucket") or ""
    if bucket and (not BUCKET_RE.match(bucket) or ".." in bucket):
        problems.append("pipelines_artifact_bucket %r is not an S3 bucket name (3 to 63 lower case letters, digits, "
                        "'.' or '-')" % bucket)
    if not bucket and not (values.get("pipelines_account_id") and values.get("pipelines_region")):
        problems.append("pipelines_artifact_bucket is empty and pipelines_account_id / pipelines_region are not set "
                        "to name it: wire aws_context_account_id and aws_context_region, or set the bucket")
    if not REPO_RE.match(values.get("pipelines_repository") or ""):
        problems.append("pipelines_repository %r is not a CodeCommit repository name: wire codecommit_repo_name"
                        % values.get("pipelines_repository"))
    if not BRANCH_RE.match(values.get("pipelines_branch") or ""):
        problems.append("pipelines_branch %r is not a branch name" % values.get("pipelines_branch"))
    groups = values.get("pipelines_deployment_groups") or {}
    extra = sorted(set(groups) - set(names))
    if extra:
        problems.append("pipelines_deployment_groups names %s, not in pipelines_services (%s)"
                        % (", ".join(extra), ", ".join(names)))
    missing = [n for n in names if groups and n not in groups]
    if missing:
        problems.append("pipelines_deployment_groups has no deployment group for %s: wire "
                        "codedeploy_deployment_groups of the same service list" % ", ".join(missing))
    return problems
