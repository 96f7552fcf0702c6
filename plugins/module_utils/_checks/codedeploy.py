# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the codedeploy role's inputs that span variables (run by the preflight action)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import ECS_DEPLOYMENT_CONFIGS
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import MAX_WAIT_MINUTES


def _unknown(mapping, variable, names):
    extra = sorted(set(mapping or {}) - set(names))
    if not extra:
        return []
    return ["%s names %s, not in codedeploy_services (%s): a deployment group for a service that does not exist"
            % (variable, ", ".join(extra), ", ".join(names))]


def check(values, services):
    problems = []
    names = [s["name"] for s in services or []]
    application = values.get("codedeploy_application_name") or ""
    why = _lab.name_problem("codedeploy", application)
    if why:
        problems.append("codedeploy_application_name %s: %s" % (_lab.quote(application), why))
    else:
        # One line for every service whose deployment group name the application makes too long.
        long_names = [n for n in names if _lab.name_problem("codedeploy", _lab.deployment_group(application, n))]
        if long_names:
            problems.append("codedeploy_application_name %s: with service%s %s it makes deployment group names "
                            "longer than 100 characters (<application>-<service>); shorten it"
                            % (_lab.quote(application), "s" if len(long_names) > 1 else "", ", ".join(long_names)))
    if values.get("codedeploy_state", "present") == "absent":
        return problems
    role = values.get("codedeploy_service_role_arn") or ""
    if not _lab.ROLE_ARN_RE.match(role):
        problems.append("codedeploy_service_role_arn %r is not an IAM role ARN: wire aws_context_deploy_role_arn "
                        "(the lab's DeployRole) or set it" % role)
    listeners = values.get("codedeploy_listener_arns") or {}
    for key in ("production", "test") if listeners else ():  # empty: looked up by port
        arn = listeners.get(key) or ""
        if not _lab.LISTENER_ARN_RE.match(arn):
            problems.append("codedeploy_listener_arns.%s %r is not an Application Load Balancer listener ARN: wire "
                            "load_balancer_listener_arns" % (key, arn))
    if listeners.get("production") and listeners.get("production") == listeners.get("test"):
        problems.append("codedeploy_listener_arns: production and test are the same listener")
    extra = sorted(set(listeners) - {"production", "test"})
    if extra:
        problems.append("codedeploy_listener_arns: unknown key(s) %s (production, test)" % ", ".join(extra))
    if values.get("codedeploy_deployment_config") not in ECS_DEPLOYMENT_CONFIGS:
        problems.append("codedeploy_deployment_config %r is not an ECS configuration (%s)"
                        % (values.get("codedeploy_deployment_config"), ", ".join(ECS_DEPLOYMENT_CONFIGS)))
    for key in ("codedeploy_termination_wait_minutes", "codedeploy_reroute_wait_minutes"):
        value = values.get(key)
        if value is not None and not 0 <= int(value) <= MAX_WAIT_MINUTES:
            problems.append("%s %s: 0 to %d minutes" % (key, value, MAX_WAIT_MINUTES))
    problems.extend(_unknown(values.get("codedeploy_service_names"), "codedeploy_service_names", names))
    target_groups = values.get("codedeploy_target_groups") or {}
    problems.extend(_unknown(target_groups, "codedeploy_target_groups", names))
    for name in names:
        pair = target_groups.get(name)
        if target_groups and pair is None:
            problems.append("codedeploy_target_groups has no pair for service %s: wire load_balancer_target_groups "
                            "of the same service list" % name)
        elif pair is not None and not all(isinstance(pair.get(k), dict) and pair[k].get("name") for k in ("one", "two")):
            problems.append("codedeploy_target_groups.%s needs one.name and two.name" % name)
    return problems
