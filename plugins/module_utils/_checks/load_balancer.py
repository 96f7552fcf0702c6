# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the load_balancer role's inputs that a type or a choice cannot say.

AWS's limits are checked here, before any change, so that a run never stops
half way: a load balancer name of at most 32 letters, digits and hyphens, a
target group name of at most 32 characters, IPv4 CIDRs (the load balancer is
IPv4 only), two distinct listener ports, and the routes: the first service is
the default route, every other one needs its own path pattern.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible.module_utils.six import integer_types
from ansible.module_utils.six import string_types

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

LB_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
SG_NAME_RE = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}$")
# Rules per listener an ALB accepts, the default rule left out.
MAX_RULES = 100


def _port_problem(name, value):
    if isinstance(value, bool) or not isinstance(value, integer_types) or not 1 <= value <= 65535:
        return "%s is %r: a port is a number from 1 to 65535" % (name, value)
    return None


def _cidr_problems(cidrs):
    problems = []
    for cidr in cidrs or []:
        try:
            net = ipaddress.ip_network(str(cidr), strict=True)
        except ValueError as e:
            problems.append("load_balancer_ingress_cidrs has %r, which is not an IPv4 CIDR such as 203.0.113.0/24 "
                            "(%s)" % (cidr, e))
            continue
        if net.version != 4:
            problems.append("load_balancer_ingress_cidrs has %r: the load balancer is IPv4 only, list IPv4 CIDRs"
                            % (cidr,))
    if cidrs is not None and not cidrs:
        problems.append("load_balancer_ingress_cidrs is empty: list at least one IPv4 CIDR (the lab's is 0.0.0.0/0)")
    return problems


def _service_problems(services):
    problems = _lab.route_problems(services, "load_balancer_services")
    if len(services) - 1 > MAX_RULES:
        problems.append("load_balancer_services lists %d services: a listener takes at most %d rules, one per "
                        "service but the first" % (len(services), MAX_RULES))
    return problems + _lab.target_group_problems(services)


def check(values, services):
    """One line per problem of the load_balancer role's inputs (empty when all is well)."""
    problems = []
    present = values.get("load_balancer_state", "present") == "present"
    name = values.get("load_balancer_name")
    if name is not None and (not isinstance(name, string_types) or not LB_NAME_RE.match(name)
                             or name.lower().startswith("internal-")):
        problems.append("load_balancer_name is %r: a load balancer name is 1 to 32 letters, digits and hyphens, "
                        "not starting or ending with a hyphen nor starting with internal-" % (name,))
    sg_name = values.get("load_balancer_security_group_name")
    if sg_name is not None and (not isinstance(sg_name, string_types) or not SG_NAME_RE.match(sg_name)
                                or sg_name.lower().startswith("sg-")):
        problems.append("load_balancer_security_group_name is %r: 1 to 255 characters (letters, digits, spaces "
                        "and ._-:/()#,@[]+=&;{}!$*), not starting with sg-" % (sg_name,))
    ports = []
    for key in ("load_balancer_production_port", "load_balancer_test_port"):
        if key in values:
            why = _port_problem(key, values[key])
            if why:
                problems.append(why)
            else:
                ports.append(values[key])
    if len(ports) == 2 and ports[0] == ports[1]:
        problems.append("load_balancer_production_port and load_balancer_test_port are both %d: the production "
                        "and test listeners need two ports" % ports[0])
    if "load_balancer_ingress_cidrs" in values:
        problems.extend(_cidr_problems(values["load_balancer_ingress_cidrs"]))
    if present:
        vpc = values.get("load_balancer_vpc_id")
        if vpc is not None and (not isinstance(vpc, string_types) or not _lab.VPC_ID_RE.match(vpc)):
            problems.append("load_balancer_vpc_id is %r: a VPC id such as vpc-0123456789abcdef0 (the playbooks "
                            "wire aws_context_vpc_id)" % (vpc,))
        subnets = values.get("load_balancer_subnet_ids")
        if subnets is not None:
            bad = [s for s in subnets if not isinstance(s, string_types) or not _lab.SUBNET_ID_RE.match(s)]
            if bad:
                problems.append("load_balancer_subnet_ids has %s: subnet ids such as subnet-0123456789abcdef0"
                                % ", ".join(repr(b) for b in bad))
            elif len(set(subnets)) < 2:
                problems.append("load_balancer_subnet_ids is %r: an Application Load Balancer needs two subnets in "
                                "two Availability Zones (the lab's PublicSubnet1 and PublicSubnet2; the playbooks "
                                "wire aws_context_subnet_ids)" % (subnets,))
        problems.extend(_service_problems(services or []))
    return problems
