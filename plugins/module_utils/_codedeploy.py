# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CodeDeploy rules shared by the modules and the role checks: no AWS call here.

- ``desired_group(group)``: the module's description of an ECS blue/green deployment group turned into
  the fields of CreateDeploymentGroup / UpdateDeploymentGroup.
- ``normalise_group(info)``: what GetDeploymentGroup / BatchGetDeploymentGroups returns, reduced to
  those same fields with AWS's defaults filled in and lists sorted, so that it compares with
  ``desired_group``'s result.
- ``differences(current, desired)``: the fields that differ (empty: nothing to do).
- ARNs of applications and deployment groups (tags are set by ARN).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

ECS_DEPLOYMENT_CONFIGS = (
    "CodeDeployDefault.ECSAllAtOnce",
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
    "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "CodeDeployDefault.ECSCanary10Percent15Minutes",
)
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")
# AWS: 0 to 2880 minutes (two days) for the termination wait, 0 to 2880 for the reroute wait.
MAX_WAIT_MINUTES = 2880
# The statuses of a deployment that has not ended (ListDeployments includeOnlyStatuses).
IN_PROGRESS = ["Created", "Queued", "InProgress", "Baking", "Ready"]
MANAGED_FIELDS = ("deploymentConfigName", "serviceRoleArn", "deploymentStyle", "blueGreenDeploymentConfiguration",
                  "loadBalancerInfo", "ecsServices", "autoRollbackConfiguration")


def application_arn(partition, region, account, name):
    return "arn:%s:codedeploy:%s:%s:application:%s" % (partition, region, account, name)


def group_arn(partition, region, account, application, name):
    return "arn:%s:codedeploy:%s:%s:deploymentgroup:%s/%s" % (partition, region, account, application, name)


def desired_group(group):
    """Fields of Create/UpdateDeploymentGroup for an ECS blue/green group described by the module's options."""
    reroute = group.get("reroute_wait_minutes") or 0
    events = sorted(set(group.get("auto_rollback_events") or []))
    return {
        "deploymentConfigName": group["deployment_config"],
        "serviceRoleArn": group["service_role_arn"],
        "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        "blueGreenDeploymentConfiguration": {
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE",
                "terminationWaitTimeInMinutes": int(group["termination_wait_minutes"]),
            },
            # Reroute at once (CONTINUE_DEPLOYMENT), or wait for someone to continue it and stop after the wait.
            "deploymentReadyOption": (
                {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0} if not reroute
                else {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": int(reroute)}),
        },
        "loadBalancerInfo": {"targetGroupPairInfoList": [{
            "targetGroups": [{"name": name} for name in group["target_groups"]],
            "prodTrafficRoute": {"listenerArns": [group["production_listener_arn"]]},
            "testTrafficRoute": {"listenerArns": [group["test_listener_arn"]]},
        }]},
        "ecsServices": [{"serviceName": group["service"], "clusterName": group["cluster"]}],
        "autoRollbackConfiguration": {"enabled": bool(events), "events": events},
    }


def _pairs(load_balancer_info):
    out = []
    for pair in (load_balancer_info or {}).get("targetGroupPairInfoList") or []:
        item = {"targetGroups": [{"name": tg.get("name")} for tg in pair.get("targetGroups") or []]}
        for route in ("prodTrafficRoute", "testTrafficRoute"):
            arns = sorted((pair.get(route) or {}).get("listenerArns") or [])
            if arns:
                item[route] = {"listenerArns": arns}
        out.append(item)
    return {"targetGroupPairInfoList": out} if out else {}


def normalise_group(info):
    """A deployment group as AWS returns it, reduced to the fields ``desired_group`` sets."""
    if not info:
        return None
    blue_green = info.get("blueGreenDeploymentConfiguration") or {}
    terminate = blue_green.get("terminateBlueInstancesOnDeploymentSuccess") or {}
    ready = blue_green.get("deploymentReadyOption") or {}
    rollback = info.get("autoRollbackConfiguration") or {}
    events = sorted(set(rollback.get("events") or [])) if rollback.get("enabled") else []
    style = info.get("deploymentStyle") or {}
    return {
        "deploymentConfigName": info.get("deploymentConfigName"),
        "serviceRoleArn": info.get("serviceRoleArn"),
        "deploymentStyle": {"deploymentType": style.get("deploymentType", "IN_PLACE"),
                            "deploymentOption": style.get("deploymentOption", "WITHOUT_TRAFFIC_CONTROL")},
        "blueGreenDeploymentConfiguration": {
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": terminate.get("action", "TERMINATE"),
                "terminationWaitTimeInMinutes": int(terminate.get("terminationWaitTimeInMinutes") or 0),
            },
            "deploymentReadyOption": {
                "actionOnTimeout": ready.get("actionOnTimeout", "CONTINUE_DEPLOYMENT"),
                "waitTimeInMinutes": int(ready.get("waitTimeInMinutes") or 0),
            },
        },
        "loadBalancerInfo": _pairs(info.get("loadBalancerInfo")),
        "ecsServices": [{"serviceName": s.get("serviceName"), "clusterName": s.get("clusterName")}
                        for s in info.get("ecsServices") or []],
        "autoRollbackConfiguration": {"enabled": bool(events), "events": events},
    }


def differences(current, desired):
    """Names of the fields that differ between a normalised current group and a desired one."""
    if current is None:
        return list(MANAGED_FIELDS)
    wanted = normalise_group(desired)
    return [field for field in MANAGED_FIELDS if current.get(field) != wanted.get(field)]


def group_problems(group, index=None):
    """One-line problems of one module group entry that need no AWS call."""
    where = "deployment_groups[%s]" % (group.get("name") if group.get("name") else index)
    problems = []
    why = _lab.name_problem("codedeploy", group.get("name") or "")
    if why:
        problems.append("%s.name: %s" % (where, why))
    if group.get("deployment_config") not in ECS_DEPLOYMENT_CONFIGS:
        problems.append("%s.deployment_config %r is not an ECS configuration (%s)"
                        % (where, group.get("deployment_config"), ", ".join(ECS_DEPLOYMENT_CONFIGS)))
    for key in ("termination_wait_minutes", "reroute_wait_minutes"):
        value = group.get(key) or 0
        if not 0 <= int(value) <= MAX_WAIT_MINUTES:
            problems.append("%s.%s %s: 0 to %d minutes" % (where, key, value, MAX_WAIT_MINUTES))
    pair = group.get("target_groups") or []
    if len(pair) != 2 or len(set(pair)) != 2:
        problems.append("%s.target_groups %s: two distinct target group names" % (where, pair))
    if group.get("production_listener_arn") == group.get("test_listener_arn"):
        problems.append("%s: production_listener_arn and test_listener_arn are the same listener" % where)
    for event in group.get("auto_rollback_events") or []:
        if event not in ROLLBACK_EVENTS:
            problems.append("%s.auto_rollback_events %r: one of %s" % (where, event, ", ".join(ROLLBACK_EVENTS)))
    if not _lab.ROLE_ARN_RE.match(group.get("service_role_arn") or ""):
        problems.append("%s.service_role_arn %r is not a role ARN" % (where, group.get("service_role_arn")))
    return problems


def target_group_pair(service, target_groups):
    """[target group 1, target group 2] of a service: production's first (``<svc>-tg-two``, ``<svc>-tg-one``)."""
    pair = (target_groups or {}).get(service) or {}
    one = (pair.get("one") or {}).get("name") or _lab.target_group(service, "one")
    two = (pair.get("two") or {}).get("name") or _lab.target_group(service, "two")
    return [two, one]


def role_groups(services, values):
    """The codedeploy_deployment_group module's ``deployment_groups`` for the codedeploy role's inputs."""
    application = values["codedeploy_application_name"]
    names = values.get("codedeploy_service_names") or {}
    listeners = values.get("codedeploy_listener_arns") or {}
    groups = []
    for svc in services:
        name = svc["name"]
        groups.append({
            "name": _lab.deployment_group(application, name),
            "service_role_arn": values.get("codedeploy_service_role_arn"),
            "cluster": values.get("codedeploy_cluster_name"),
            "service": names.get(name) or _lab.ecs_service(name),
            "target_groups": target_group_pair(name, values.get("codedeploy_target_groups")),
            "production_listener_arn": listeners.get("production"),
            "test_listener_arn": listeners.get("test"),
            "deployment_config": values.get("codedeploy_deployment_config"),
            "reroute_wait_minutes": int(values.get("codedeploy_reroute_wait_minutes") or 0),
            "termination_wait_minutes": int(values.get("codedeploy_termination_wait_minutes")),
            "auto_rollback_events": list(values.get("codedeploy_auto_rollback_events") or []),
            "tags": _lab.with_owner_tags(values.get("codedeploy_tags"), application, name),
        })
    return groups


def listener_arns(load_balancers, ports):
    """{role: listener ARN} of the first load balancer's listeners on ``ports`` ({role: port}); roles not found left out."""
    listeners = (load_balancers[0].get("listeners") or []) if load_balancers else []
    by_port = dict((int(ls.get("port")), ls.get("listener_arn") or ls.get("ListenerArn")) for ls in listeners)
    return dict((role, by_port[int(port)]) for role, port in ports.items() if int(port) in by_port)
