# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of the lab's ECS services (Phase 7), once, without AWS calls.

- Names: service ``<name>-microservice`` on the cluster, container ``<name>``.
- What a service should be: CODE_DEPLOY, FARGATE, REPLICA, awsvpc in the given subnets with the
  given security groups, the service's tg-two behind the load balancer, the family's latest
  ACTIVE task definition.
- How a running service is compared with that, knowing what ECS lets UpdateService change on a
  CODE_DEPLOY service (desired count, deployment configuration, health check grace period,
  placement, managed tags, propagate tags) and what only CodeDeploy or a new service can change
  (task definition, load balancers, network configuration, platform version; controller, launch
  type and scheduling strategy are fixed at creation).
- After a blue/green deployment the PRIMARY task set is CodeDeploy's: it may run a newer revision
  and sit behind the other target group of the pair. Either target group of the pair is converged.

Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

CODE_DEPLOY = "CODE_DEPLOY"
# The tasks a new service starts with when nothing sets its count (the lab's desiredCount 1).
INITIAL_COUNT = 1
LAUNCH_TYPE = "FARGATE"
SCHEDULING = "REPLICA"

# What to do about a difference UpdateService cannot make on a CODE_DEPLOY service.
DEPLOY_HINT = ("a new task definition goes out through CodeDeploy: push to the pipeline's branch or start a "
               "deployment of the service's deployment group (Phase 8)")
RECREATE_HINT = ("ECS cannot change this on an existing service: delete the service "
                 "(ecs_services_state=absent, or playbooks/destroy.yml) and converge again")
NETWORK_HINT = ("ECS changes a CODE_DEPLOY service's network only through a CodeDeploy deployment whose AppSpec "
                "names the new NetworkConfiguration, or by recreating the service (ecs_services_state=absent, "
                "then converge)")


def _arn(value):
    """A target group given as an ARN or as {arn: ...} (load_balancer_target_groups' shape)."""
    if isinstance(value, dict):
        return value.get("arn") or ""
    return value or ""


def desired_services(services, target_groups, subnets, security_groups, assign_public_ip, desired_count,
                     state="present"):
    """(list of desired services, problems, unknown).

    ``services`` are filled-in `microservices` entries. A service's ``desired_count`` is its entry's, else
    ``desired_count`` (the module's, for every service), else None: the count is not converged (a new service
    starts with INITIAL_COUNT, an existing one keeps whatever count it has). ``unknown`` lists what is not known yet: an empty
    target group ARN or security group ID, which is what Phase 6 publishes in check mode for what it would
    create. Outside check mode an unknown is a problem too.
    """
    problems, unknown = [], []
    out = []
    target_groups = target_groups or {}
    for svc in services:
        pair = target_groups.get(svc["name"])
        two, one = _arn((pair or {}).get("two")), _arn((pair or {}).get("one"))
        if state == "present" and not isinstance(pair, dict):
            problems.append("target_groups has no target groups for service %s (expected "
                            "{%s: {one: {arn: ...}, two: {arn: ...}}}, as load_balancer_target_groups)"
                            % (svc["name"], svc["name"]))
        elif state == "present" and not two:
            unknown.append("the `two` target group of service %s has no ARN yet (Phase 6 creates it)" % svc["name"])
        out.append(dict(
            key=svc["name"],
            name=_lab.ecs_service(svc["name"]),
            family=svc["family"],
            container_name=svc["name"],
            container_port=svc["port"],
            target_group_arn=two,
            alternate_target_group_arn=one,
            subnets=sorted(subnets or []),
            security_groups=sorted(g for g in security_groups or [] if g),
            assign_public_ip="ENABLED" if assign_public_ip else "DISABLED",
            desired_count=desired_count if svc.get("desired_count") is None else svc["desired_count"],
        ))
    if state == "present":
        if not subnets:
            problems.append("subnets is empty: a Fargate service in awsvpc mode needs at least one subnet")
        if not security_groups:
            problems.append("security_groups is empty: give the load balancer's security group")
        elif not all(security_groups):
            unknown.append("a security group has no ID yet (Phase 6 creates it)")
    if desired_count is not None and desired_count < 0:
        problems.append("desired_count %r must be 0 or more" % (desired_count,))
    return out, problems, unknown


def container_problem(desired, task_definition):
    """Why the load balancer cannot point at this task definition's container, or None."""
    containers = task_definition.get("containerDefinitions") or []
    names = [c.get("name") for c in containers]
    for container in containers:
        if container.get("name") == desired["container_name"]:
            ports = [m.get("containerPort") for m in container.get("portMappings") or []]
            if desired["container_port"] in ports:
                return None
            return ("task definition %s: container %s maps ports %s, not %s (the service's `port`)"
                    % (task_definition.get("taskDefinitionArn"), desired["container_name"],
                       ports or "none", desired["container_port"]))
    return ("task definition %s has no container %s (it has %s): the load balancer forwards to the container "
            "named like the service" % (task_definition.get("taskDefinitionArn"), desired["container_name"],
                                        ", ".join(map(str, names)) or "none"))


def initial_count(desired):
    """The desired count a service is created with: its own when set, else INITIAL_COUNT."""
    return INITIAL_COUNT if desired["desired_count"] is None else desired["desired_count"]


def create_params(cluster, desired, task_definition_arn, tags=None):
    """CreateService's input for a desired service, as the lab's create-<svc>-microservice JSON (and its tags)."""
    params = dict(
        cluster=cluster,
        serviceName=desired["name"],
        taskDefinition=task_definition_arn,
        loadBalancers=[dict(targetGroupArn=desired["target_group_arn"], containerName=desired["container_name"],
                            containerPort=desired["container_port"])],
        desiredCount=initial_count(desired),
        launchType=LAUNCH_TYPE,
        schedulingStrategy=SCHEDULING,
        deploymentController=dict(type=CODE_DEPLOY),
        networkConfiguration=dict(awsvpcConfiguration=dict(
            subnets=desired["subnets"], securityGroups=desired["security_groups"],
            assignPublicIp=desired["assign_public_ip"])),
    )
    if tags:
        params["tags"] = [dict(key=k, value=v) for k, v in sorted(tags.items())]
    return params


def is_active(current):
    """Whether a described service is there to update: missing, DRAINING or INACTIVE, it is (re)created."""
    return bool(current) and current.get("status") == "ACTIVE"


def tags_of(current):
    """{key: value} of a service described with include=["TAGS"]."""
    return dict((t["key"], t["value"]) for t in (current or {}).get("tags") or [])


def primary(current):
    """What the service runs now: its PRIMARY task set (CodeDeploy's) when it has one, else its own fields."""
    for task_set in current.get("taskSets") or []:
        if task_set.get("status") == "PRIMARY":
            return task_set
    return current


def _network(view):
    config = (view.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    return dict(subnets=sorted(config.get("subnets") or []),
                security_groups=sorted(config.get("securityGroups") or []),
                assign_public_ip=config.get("assignPublicIp") or "DISABLED")


def _load_balancers(view):
    return [dict(target_group_arn=lb.get("targetGroupArn"), container_name=lb.get("containerName"),
                 container_port=lb.get("containerPort")) for lb in view.get("loadBalancers") or []]


def state_of(current):
    """The comparable state of a described service (None when it has none)."""
    if not current:
        return None
    view = primary(current)
    lbs = _load_balancers(view)
    return dict(
        name=current.get("serviceName"),
        status=current.get("status"),
        deployment_controller=(current.get("deploymentController") or {}).get("type", "ECS"),
        launch_type=current.get("launchType") or view.get("launchType"),
        scheduling_strategy=current.get("schedulingStrategy"),
        desired_count=current.get("desiredCount"),
        task_definition=view.get("taskDefinition") or current.get("taskDefinition"),
        load_balancers=lbs,
        target_group_arn=lbs[0]["target_group_arn"] if len(lbs) == 1 else None,
        **_network(view)
    )


def desired_state(desired, task_definition_arn):
    """The comparable state a new service would have (for diffs and check mode)."""
    return dict(
        name=desired["name"],
        status="ACTIVE",
        deployment_controller=CODE_DEPLOY,
        launch_type=LAUNCH_TYPE,
        scheduling_strategy=SCHEDULING,
        desired_count=initial_count(desired),
        task_definition=task_definition_arn,
        load_balancers=[dict(target_group_arn=desired["target_group_arn"], container_name=desired["container_name"],
                             container_port=desired["container_port"])],
        target_group_arn=desired["target_group_arn"],
        subnets=desired["subnets"],
        security_groups=desired["security_groups"],
        assign_public_ip=desired["assign_public_ip"],
    )


def compare(current, desired, task_definition_arn):
    """(UpdateService parameters ECS accepts on this service, differences it refuses).

    ``current`` is the comparable state (``state_of``) of an ACTIVE service. A difference is
    ``{field, current, desired, action}``, ``action`` saying what to do instead of an update.
    """
    update, refused = {}, []

    def refuse(field, have, want, action):
        refused.append(dict(field=field, current=have, desired=want, action=action))

    for field, want in (("deployment_controller", CODE_DEPLOY), ("launch_type", LAUNCH_TYPE),
                        ("scheduling_strategy", SCHEDULING)):
        if current[field] != want:
            refuse(field, current[field], want, RECREATE_HINT)

    # Unset, the count is whoever changed it last (by hand, a scaling policy): not reset.
    if desired["desired_count"] is not None and current["desired_count"] != desired["desired_count"]:
        update["desiredCount"] = desired["desired_count"]

    if task_definition_arn and current["task_definition"] != task_definition_arn:
        refuse("task_definition", current["task_definition"], task_definition_arn, DEPLOY_HINT)

    pair = [arn for arn in (desired["target_group_arn"], desired["alternate_target_group_arn"]) if arn]
    lbs = current["load_balancers"]
    converged = (len(lbs) == 1 and lbs[0]["target_group_arn"] in pair
                 and lbs[0]["container_name"] == desired["container_name"]
                 and lbs[0]["container_port"] == desired["container_port"])
    if not converged:
        refuse("load_balancers", lbs, [dict(target_group_arn=desired["target_group_arn"],
                                            container_name=desired["container_name"],
                                            container_port=desired["container_port"])],
               RECREATE_HINT + " (either target group of the pair counts as converged)")

    for field in ("subnets", "security_groups", "assign_public_ip"):
        if current[field] != desired[field]:
            refuse(field, current[field], desired[field], NETWORK_HINT)
    return update, refused


def describe_batches(names, size=10):
    """DescribeServices takes at most 10 services per call."""
    names = list(names)
    return [names[i:i + size] for i in range(0, len(names), size)]
