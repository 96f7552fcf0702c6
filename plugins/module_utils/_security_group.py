# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Phase 6's security group: the rules the load_balancer role gives amazon.aws.ec2_security_group, and
whether a group as EC2 describes it already holds exactly them (what lab_info's plan compares).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab


def rules(services, production_port, test_port, cidrs, group_name, lb_name):
    """The ingress rules of the group, as ec2_security_group's ``rules`` option takes them."""
    return [
        dict(proto="tcp", ports=[str(production_port), str(test_port)], cidr_ip=list(cidrs),
             rule_desc="Listeners of %s" % lb_name),
        # The ECS tasks share this group (Phase 7): the load balancer reaches them on their ports even
        # when the sources above are narrowed.
        dict(proto="tcp", ports=sorted(set(str(int(s.get("port") or 8080)) for s in services), key=int),
             group_name=group_name, rule_desc="From the load balancer to the services"),
    ]


def _wanted(rule_list, group_id):
    out = set()
    for rule in rule_list:
        for port in rule["ports"]:
            sources = [("cidr", c) for c in rule.get("cidr_ip") or []] or [("group", group_id)]
            for kind, source in sources:
                out.add((rule["proto"], int(port), int(port), kind, source, rule.get("rule_desc") or ""))
    return out


def _current(permissions):
    out = set()
    for perm in permissions or []:
        ends = (perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort"))
        for r in perm.get("IpRanges") or []:
            out.add(ends + ("cidr", r.get("CidrIp"), r.get("Description") or ""))
        for r in perm.get("Ipv6Ranges") or []:
            out.add(ends + ("cidr6", r.get("CidrIpv6"), r.get("Description") or ""))
        for r in perm.get("UserIdGroupPairs") or []:
            out.add(ends + ("group", r.get("GroupId"), r.get("Description") or ""))
        for r in perm.get("PrefixListIds") or []:
            out.add(ends + ("prefix", r.get("PrefixListId"), r.get("Description") or ""))
    return out


def differences(group, rule_list, lab):
    """Lines saying how ``group`` (DescribeSecurityGroups entry, None when missing) differs from ``rule_list``
    (``rules()``) and the lab's ownership tags; [] when the role's task would change nothing. The egress
    rules are not compared: without ``rules_egress`` ec2_security_group leaves them as they are."""
    if group is None:
        return ["create security group"]
    name = group.get("GroupName", "")
    lines = []
    want, have = _wanted(rule_list, group.get("GroupId")), _current(group.get("IpPermissions"))
    for rule in sorted(want - have, key=str):
        lines.append("open %s %s-%s from %s %s on %s" % (rule[0], rule[1], rule[2], rule[3], rule[4], name))
    for rule in sorted(have - want, key=str):
        lines.append("close %s %s-%s from %s %s on %s" % (rule[0], rule[1], rule[2], rule[3], rule[4], name))
    tags = dict((t["Key"], t["Value"]) for t in group.get("Tags") or [])
    lacking = _lab.missing_tags(tags, _lab.owner_tags(lab))
    if lacking:
        lines.append("tag %s with %s" % (name, ", ".join(sorted(lacking))))
    return lines
