# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run's one read (lab_info, registered as __lab_read) seen from the phases: whether a role runs
(plan_runs), the facts every phase takes from the read (lab_facts), and the security group's rules
(security_group_rules), the same the plan compares."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _plan
from ansible_collections.cloudlab.microservices.plugins.module_utils import _security_group


def _read(lab, name):
    if not isinstance(lab, dict) or not isinstance(lab.get("plan"), dict):
        raise AnsibleFilterError("%s: the input must be lab_info's result (playbooks/tasks/read_lab.yml registers it "
                                 "as __lab_read), got %s" % (name, _lab.quote(lab)))
    return lab


def plan_runs(lab, role):
    """Whether the role's write modules run: its plan is null (cannot tell) or lists a change."""
    if role not in _plan.ROLES:
        raise AnsibleFilterError("plan_runs: %s is not one of the planned roles %s"
                                 % (_lab.quote(role), ", ".join(_plan.ROLES)))
    planned = _read(lab, "plan_runs")["plan"].get(role)
    return planned is None or bool(planned)


def lab_facts(lab):
    """The facts the roles publish, as the read found them: what a later phase takes when a role did not run."""
    lab = _read(lab, "lab_facts")
    context = dict(("aws_context_" + k, lab.get(k)) for k in (
        "account_id", "partition", "region", "vpc_id", "subnet_ids", "pipeline_role_arn", "deploy_role_arn",
        "db_host", "registry"))
    groups = dict((svc, dict((which, dict(name=_lab.target_group(svc, which), arn=(group or {}).get("arn", "")))
                             for which, group in pair.items()))
                  for svc, pair in (lab.get("target_groups") or {}).items())
    lb = lab.get("load_balancer") or {}
    return dict(
        context,
        fargate_cluster_name=lab["cluster"]["name"],
        ecr_repos_uris=dict((n, r["uri"]) for n, r in lab["repositories"].items() if r["exists"]),
        ecr_repos_registry=lab.get("registry"),
        codecommit_repo_clone_url=lab["codecommit"]["clone_url"],
        load_balancer_security_group_id=lab["security_group"]["id"],
        load_balancer_target_groups=groups,
        load_balancer_arn=lb.get("arn", ""),
        load_balancer_dns_name=lb.get("dns_name", ""),
        load_balancer_routes=lb.get("routes") or {},
        load_balancer_listener_arns=dict((role, (lab.get("listener_arns") or {}).get(role, ""))
                                         for role in ("production", "test")),
    )


def security_group_rules(services, production_port, test_port, cidrs, group_name, lb_name):
    return _security_group.rules(services, production_port, test_port, cidrs, group_name, lb_name)


class FilterModule(object):
    def filters(self):
        return {"plan_runs": plan_runs, "lab_facts": lab_facts, "security_group_rules": security_group_rules}
