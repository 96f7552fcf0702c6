# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Phase 9's settings on the one service list: the admin service's source_cidrs (9.1) and the scaled service's
desired_count (9.4), from the phase9_* variables of playbooks/phase9.yml. The services' names are the lab's
(module_utils/_lab.py) unless the playbook's variables name others."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _services

WHICH = {"admin": _lab.PHASE9_ADMIN_SERVICE, "scaled": _lab.PHASE9_SCALED_SERVICE}


def phase9_service(name, which):
    """The service of a Phase 9 task: `name` when given, else the lab's (admin: 9.1 to 9.3, scaled: 9.4)."""
    if which not in WHICH:
        raise AnsibleFilterError("phase9_service: which must be one of %s (got %s)" % (", ".join(WHICH), _lab.quote(which)))
    return name or WHICH[which]


def phase9_problems(services, admin_cidrs, count, admin_service, scaled_service):
    """(the list with Phase 9's settings, one line per problem naming the variable to fix)."""
    if not isinstance(services, (list, tuple)) or not all(isinstance(s, dict) and s.get("name") for s in services):
        return None, ["microservices must be the service list, each a dict with a name (got %s)" % _lab.quote(services)]
    names = [s["name"] for s in services]
    problems = []
    for variable, name in (("phase9_admin_service", admin_service), ("phase9_scaled_service", scaled_service)):
        if name not in names:
            problems.append("%s is %s: not a service of microservices (%s)" % (variable, name, ", ".join(names)))
    if admin_service == scaled_service:
        problems.append("phase9_admin_service and phase9_scaled_service are both %s: 9.1 limits one service's "
                        "admin pages, 9.4 scales another" % admin_service)
    cidrs, why = _services.source_cidrs_problem(admin_cidrs)
    if admin_cidrs is None or (not why and not cidrs):
        problems.append("phase9_admin_cidrs is not set: give the addresses let into the admin pages, your own as "
                        "<ip>/32, such as -e '{\"phase9_admin_cidrs\": [\"203.0.113.7/32\"]}'")
    elif why:
        problems.append("phase9_admin_cidrs: %s" % why.replace("source_cidrs ", "", 1))
    desired, why = _services.desired_count_problem(count)
    if why or desired is None:
        problems.append("phase9_customer_count is %s: it must be a whole number from 0 to %d"
                        % (_lab.quote(count), _services.DESIRED_COUNT_MAX))
    if problems:
        return None, problems
    out = []
    for entry in services:
        entry = copy.deepcopy(entry)
        if entry["name"] == admin_service:
            entry["source_cidrs"] = cidrs
        elif entry["name"] == scaled_service:
            entry["desired_count"] = desired
        out.append(entry)
    return out, []


def phase9_services(services, admin_cidrs, count=_lab.PHASE9_COUNT, admin_service="", scaled_service=""):
    """The service list with Phase 9's settings, or one error with every problem."""
    out, problems = phase9_problems(services, admin_cidrs, count, phase9_service(admin_service, "admin"),
                                    phase9_service(scaled_service, "scaled"))
    if problems:
        raise AnsibleFilterError("Failed to validate Phase 9's inputs, nothing changed: %s" % "; ".join(problems))
    return out


class FilterModule(object):
    def filters(self):
        return {"phase9_services": phase9_services, "phase9_service": phase9_service}
