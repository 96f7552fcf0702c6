# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the pipelines role's inputs that span variables (run by the preflight action)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

# S3 bucket names: 3 to 63 lower case letters, digits, '.', '-', starting and ending with a letter or digit.
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _derived_problems(names):
    """The pipeline and EventBridge rule names the services make (the model's), against AWS's rules."""
    problems = []
    lab = _lab.model([{"name": n} for n in names])
    for name in names:
        derived = lab["services"][name]
        for kind, value in [("pipeline", derived["pipeline"])] + [("event_rule", r) for r in derived["event_rules"]]:
            why = _lab.name_problem(kind, value)
            if why:
                problems.append("pipelines_services: service %s makes the name %s: %s"
                                % (name, _lab.quote(value), why))
    return problems


def _name_problems(values):
    """One line per wrong name or tag, by AWS's own rules (the API would refuse it only after task 8.1)."""
    problems = []
    for key, kind, hint in (
            ("pipelines_repository", "codecommit", ": wire codecommit_repo_name"),
            ("pipelines_application", "codedeploy", ": wire codedeploy_application"),
            ("pipelines_image_tag", "ecr_tag", ", the tag image pushes give (the lab's is latest)")):
        value = values.get(key)
        why = _lab.name_problem(kind, value)
        if value is not None and why:
            problems.append("%s %s: %s%s" % (key, _lab.quote(value), why, hint))
    branch = values.get("pipelines_branch")
    why = _lab.branch_problem(branch) if branch is not None else None
    if why:
        problems.append("pipelines_branch %s is not a git branch name: %s (the lab's is dev)" % (_lab.quote(branch), why))
    groups = values.get("pipelines_deployment_groups") or {}
    bad = sorted(n for n, g in groups.items() if _lab.name_problem("codedeploy", g))
    for name in bad:
        problems.append("pipelines_deployment_groups.%s %s: %s: wire codedeploy_deployment_groups"
                        % (name, _lab.quote(groups[name]), _lab.name_problem("codedeploy", groups[name])))
    return problems


def check(values, services):
    names = [s["name"] for s in services or []]
    problems = _derived_problems(names)
    if values.get("pipelines_state", "present") == "absent":
        return problems
    for key in ("pipelines_role_arn", "pipelines_events_role_arn"):
        role = values.get(key) or ""
        if (role or key == "pipelines_role_arn") and not _lab.ROLE_ARN_RE.match(role):
            problems.append("%s %s is not an IAM role ARN%s" % (
                key, _lab.quote(role), ": wire aws_context_pipeline_role_arn (the lab's PipelineRole)"
                if key == "pipelines_role_arn" else ""))
    bucket = values.get("pipelines_artifact_bucket") or ""
    if bucket and (not BUCKET_RE.match(bucket) or ".." in bucket):
        problems.append("pipelines_artifact_bucket %s is not an S3 bucket name (3 to 63 lower case letters, digits, "
                        "'.' or '-')" % _lab.quote(bucket))
    if not bucket and not (values.get("pipelines_account_id") and values.get("pipelines_region")):
        problems.append("pipelines_artifact_bucket is empty and pipelines_account_id / pipelines_region are not set "
                        "to name it: wire aws_context_account_id and aws_context_region, or set the bucket")
    problems.extend(_name_problems(values))
    groups = values.get("pipelines_deployment_groups") or {}
    extra = sorted(set(groups) - set(names))
    if extra:
        problems.append("pipelines_deployment_groups names %s, not in pipelines_services (%s)"
                        % (", ".join(extra), ", ".join(names)))
    missing = [n for n in names if groups and n not in groups]
    if missing:
        problems.append("pipelines_deployment_groups has no deployment group for %s: wire "
                        "codedeploy_deployment_groups of the same service list" % ", ".join(missing))
    if not groups:
        application = values.get("pipelines_application")
        long_names = [n for n in names if application and not _lab.name_problem("codedeploy", application)
                      and _lab.name_problem("codedeploy", _lab.deployment_group(application, n))]
        if long_names:
            problems.append("pipelines_application %s: with service%s %s it makes deployment group names longer "
                            "than 100 characters (<application>-<service>); shorten it"
                            % (_lab.quote(application), "s" if len(long_names) > 1 else "", ", ".join(long_names)))
    return problems
