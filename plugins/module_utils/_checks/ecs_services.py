# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the ecs_services role's inputs that its argument spec cannot say.

Run by the ``cloudlab.microservices.preflight`` action, before any change; no AWS call. Whether
each family has an ACTIVE revision is checked by the module, for every service, before its first
create (it needs ECS to know).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import DESIRED_COUNT_MAX as MAX_DESIRED


def _ids(values, name, pattern, what, problems):
    ids = values.get(name) or []
    if not ids:
        problems.append("%s is empty: give %s (playbooks wire them)" % (name, what))
        return
    # '' is what Phase 6 publishes in check mode for a security group it would create: the module
    # takes it as unknown in check mode and refuses it otherwise.
    bad = [i for i in ids if i != "" and (not isinstance(i, str) or not pattern.match(i))]
    if bad:
        verb = "is" if len(bad) == 1 else "are"
        problems.append("%s has %s, which %s not %s" % (name, ", ".join(map(repr, bad)), verb, what))
    if len(set(ids)) != len(ids):
        problems.append("%s lists %r twice" % (name, sorted(i for i in set(ids) if ids.count(i) > 1)[0]))


def _target_group_problems(target_groups, services):
    problems = []
    if not isinstance(target_groups, dict):
        return ["ecs_services_target_groups must be a dict {<svc>: {one: {arn}, two: {arn}}} "
                "(load_balancer_target_groups), got %r" % (target_groups,)]
    for svc in services or []:
        pair = target_groups.get(svc["name"])
        if not isinstance(pair, dict):
            problems.append("ecs_services_target_groups has no target groups for service %s: run the load "
                            "balancer (playbooks/phase6.yml) first, or set it as {%s: {one: {arn: ...}, two: "
                            "{arn: ...}}}" % (svc["name"], svc["name"]))
            continue
        for which in ("two", "one"):
            value = pair.get(which)
            arn = value.get("arn") if isinstance(value, dict) else value
            if arn == "" or (which == "one" and arn is None):
                # '' is what Phase 6 publishes in check mode for a group it would create (the module takes
                # it as unknown in check mode and refuses it otherwise); tg-one is only needed after a swap.
                continue
            if not isinstance(arn, str) or not _lab.TARGET_GROUP_ARN_RE.match(arn):
                problems.append("ecs_services_target_groups.%s.%s.arn is %r: expected a target group ARN "
                                "(arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)"
                                % (svc["name"], which, arn))
    return problems


def check(values, services):
    """One-line problems of the ecs_services inputs (empty list: fine)."""
    problems = []
    count = values.get("ecs_services_desired_count", 1)
    if count is not None and not 0 <= count <= MAX_DESIRED:
        problems.append("ecs_services_desired_count is %s: it must be from 0 to %d" % (count, MAX_DESIRED))
    timeout = values.get("ecs_services_wait_timeout", 600)
    if timeout is not None and timeout < 0:
        problems.append("ecs_services_wait_timeout is %s: it must be 0 (do not wait) or more seconds" % timeout)
    if values.get("ecs_services_state", "present") != "present":
        return problems
    if not (values.get("ecs_services_cluster") or "").strip():
        problems.append("ecs_services_cluster is empty: give the Phase 5 cluster (fargate_cluster_name)")
    _ids(values, "ecs_services_subnet_ids", _lab.SUBNET_ID_RE, "subnet IDs (subnet-...)", problems)
    _ids(values, "ecs_services_security_group_ids", _lab.SG_ID_RE, "security group IDs (sg-...)", problems)
    problems.extend(_target_group_problems(values.get("ecs_services_target_groups") or {}, services))
    return problems
