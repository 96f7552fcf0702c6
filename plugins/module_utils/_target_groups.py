# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Phase 6's target groups compared with what the service list asks: the rules of alb_target_groups.

The module applies them; lab_info's plan (_plan.load_balancer) applies the same ones to what it read, so
that a refusal comes before Phase 5 writes and a converged pair plans nothing.

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

PROTOCOL = "HTTP"
TARGET_TYPE = "ip"
# What AWS does not let a target group change.
FIXED = ("Port", "Protocol", "TargetType", "VpcId")


# The lab model's target group settings (_lab.target_group_settings) under ELBv2's names.
API_NAMES = dict(port="Port", protocol="Protocol", target_type="TargetType", vpc_id="VpcId",
                 health_check_path="HealthCheckPath")


def wanted(services, vpc_id):
    """name -> (service, which, desired settings), the settings the lab model gives each group of the pair."""
    out = {}
    for svc in services:
        settings = _lab.target_group_settings(svc, vpc_id)
        for which in _lab.PAIR:
            out[_lab.target_group(svc["name"], which)] = (
                svc["name"], which, dict((API_NAMES[key], value) for key, value in settings.items()))
    return out


def refusal(desired, current):
    """The message refusing the first existing group whose port, protocol, type or VPC differs, or None.

    ``desired``: ``wanted()``; ``current``: name -> DescribeTargetGroups entry."""
    for name, (service, _which, want) in desired.items():
        group = current.get(name)
        if group is None:
            continue
        fixed = [k for k in FIXED if str(group.get(k)) != str(want[k])]
        if fixed:
            return (
                "Failed to update target group %s of service %s: its %s cannot change (%s, wanted %s); "
                "remove it (load_balancer_state=absent removes the listeners, the load balancer and the target "
                "groups) and converge again, or set the service's port back" % (
                    name, service, ", ".join(fixed), ", ".join("%s=%s" % (k, group.get(k)) for k in fixed),
                    ", ".join("%s=%s" % (k, want[k]) for k in fixed)))
    return None


def change(name, group, want, have_tags, owner):
    """What converging one group does: ``(create, health_check, lacking_tags)``.

    ``group``: its DescribeTargetGroups entry or None; ``have_tags``: its tags; ``owner``: the tags it must carry."""
    if group is None:
        return True, False, {}
    health = group.get("HealthCheckPath") != want["HealthCheckPath"] or group.get("HealthCheckProtocol", PROTOCOL) != PROTOCOL
    return False, health, _lab.missing_tags(have_tags, owner)


def change_lines(desired, current, tags, lab):
    """The lines alb_target_groups says for what it would change (``tags``: ARN -> tags; ``lab``: '' for none)."""
    lines = []
    for name, (service, _which, want) in desired.items():
        group = current.get(name)
        owner = _lab.owner_tags(lab, service) if lab else {}
        create, health, lacking = change(name, group, want, tags.get((group or {}).get("TargetGroupArn"), {}), owner)
        if create:
            lines.append("create %s" % name)
            continue
        if health:
            lines.append("update %s health check path %s -> %s"
                         % (name, group.get("HealthCheckPath"), want["HealthCheckPath"]))
        if lacking:
            lines.append("tag %s with %s" % (name, ", ".join(sorted(lacking))))
    return lines
