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


def _plain(value):
    """A value as compared with what the plan took: numbers as text (a templated port is a string)."""
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


# Wired inputs a role may be given empty: it then derives the lab's names, which the plan took. Empty listeners
# are looked up by port by the role, which the plan does not follow: they are compared.
MAY_BE_EMPTY = dict(codedeploy=("service_names", "target_groups"), pipelines=("deployment_groups",))


def planned_wiring(lab, role):
    """What the plan of the ecr_repos or fargate_cluster role or of a Phase 7 or 8 role took from the read (or derived by the lab's
    rules) for the inputs the playbooks wire from earlier roles' facts; {} for the other roles. A wired input that differs (an extra var,
    or an earlier role of the run that changed what it publishes) makes the role run: the plan did not see it."""
    lab = _read(lab, "planned_wiring")
    facts = lab_facts(lab)
    services = lab.get("services") or []
    application = lab["codedeploy"]["application"]["name"]
    if role == "ecr_repos":
        return dict(account_id=lab.get("account_id"), partition=lab.get("partition"))
    if role == "fargate_cluster":
        return dict(vpc_id=lab.get("vpc_id"), subnet_ids=lab.get("subnet_ids"))
    if role == "ecs_services":
        return dict(cluster=facts["fargate_cluster_name"], subnet_ids=facts["aws_context_subnet_ids"],
                    security_group_ids=[facts["load_balancer_security_group_id"]],
                    target_groups=facts["load_balancer_target_groups"], lab=application, assign_public_ip=True,
                    state="present")
    listeners = (lab.get("load_balancer") or {}).get("listeners") or {}
    if role == "codedeploy":
        return dict(application_name=application, service_role_arn=lab.get("deploy_role_arn"),
                    cluster_name=facts["fargate_cluster_name"],
                    service_names=dict((s, _lab.ecs_service(s)) for s in services),
                    target_groups=facts["load_balancer_target_groups"],
                    listener_arns=facts["load_balancer_listener_arns"],
                    load_balancer_name=(lab.get("load_balancer") or {}).get("name"),
                    production_port=(listeners.get("production") or {}).get("port"),
                    test_port=(listeners.get("test") or {}).get("port"), state="present")
    if role == "pipelines":
        return dict(role_arn=lab.get("pipeline_role_arn"), repository=lab["codecommit"].get("name"),
                    application=application,
                    deployment_groups=dict((s, _lab.deployment_group(application, s)) for s in services),
                    artifact_bucket=lab["artifact_bucket"]["name"], account_id=lab.get("account_id"),
                    region=lab.get("region"), state="present")
    return {}


def wiring_differs(lab, role, wiring):
    """The names of the wired inputs (``wiring``, keyed as planned_wiring's) that differ from what the plan took."""
    planned = planned_wiring(lab, role)
    unknown = sorted(set(wiring) - set(planned))
    if unknown:
        raise AnsibleFilterError("plan_runs: the plan of %s takes no wired input %s (it compares %s)"
                                 % (role, ", ".join(unknown), ", ".join(sorted(planned))))
    return sorted(k for k, v in wiring.items()
                  if not (k in MAY_BE_EMPTY.get(role, ()) and not v) and _plain(v) != _plain(planned[k]))


def plan_runs(lab, role, wiring=None):
    """Whether the role's write modules run: its plan is null (cannot tell) or lists a change, or an input the
    playbook wires (``wiring``, see planned_wiring) is not what the plan took from the read."""
    if role not in _plan.ROLES:
        raise AnsibleFilterError("plan_runs: %s is not one of the planned roles %s"
                                 % (_lab.quote(role), ", ".join(_plan.ROLES)))
    planned = _read(lab, "plan_runs")["plan"].get(role)
    return planned is None or bool(planned) or bool(wiring and wiring_differs(lab, role, wiring))


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
        image_push_digests=dict((n, r["image_digest"]) for n, r in lab["repositories"].items()),
        taskdef_appspec_registered=dict((f["family"], f["registered"]) for f in (lab.get("task_definitions") or {}).values()
                                        if f.get("registered")),
        codecommit_repo_clone_url=lab["codecommit"]["clone_url"],
        load_balancer_security_group_id=lab["security_group"]["id"],
        load_balancer_target_groups=groups,
        load_balancer_arn=lb.get("arn", ""),
        load_balancer_dns_name=lb.get("dns_name", ""),
        load_balancer_routes=lb.get("routes") or {},
        load_balancer_listener_arns=dict((role, (lab.get("listener_arns") or {}).get(role, ""))
                                         for role in ("production", "test")),
    )


def phase78_facts(lab):
    """The facts the ecs_services, codedeploy and pipelines roles publish, as the read found them: what Phases 7
    and 8 publish for a role their plan skips (later roles, the route check and the summaries take them)."""
    lab = _read(lab, "phase78_facts")
    services = lab.get("services") or []
    application = lab["codedeploy"]["application"]["name"]
    found = dict((s, lab["ecs_services"].get(s) or {}) for s in services)
    arns = dict(((g or {}).get("name"), (g or {}).get("arn", "")) for pair in (lab.get("target_groups") or {}).values()
                for g in pair.values())
    return dict(
        ecs_services_names=dict((s, _lab.ecs_service(s)) for s in services),
        ecs_services_arns=dict((s, v["arn"]) for s, v in found.items() if v.get("exists") and v.get("status") == "ACTIVE"),
        ecs_services_details=dict((s, dict(name=_lab.ecs_service(s), arn=v.get("arn", ""), action="none",
                                           status=v.get("status") or "MISSING",
                                           task_definition=v.get("task_definition") or "",
                                           target_group_arn=arns.get(v.get("target_group"), ""),
                                           running_count=v.get("running_count") or 0,
                                           desired_count=v.get("desired_count") or 0, differences=[]))
                                  for s, v in found.items()),
        codedeploy_application=application,
        codedeploy_deployment_groups=dict((s, _lab.deployment_group(application, s)) for s in services),
        pipelines_names=dict((s, _lab.pipeline(s)) for s in services),
    )


def security_group_rules(services, production_port, test_port, cidrs, group_name, lb_name):
    return _security_group.rules(services, production_port, test_port, cidrs, group_name, lb_name)


class FilterModule(object):
    def filters(self):
        return {"plan_runs": plan_runs, "lab_facts": lab_facts, "phase78_facts": phase78_facts,
                "security_group_rules": security_group_rules}
