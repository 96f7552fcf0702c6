#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecs_codedeploy_service
short_description: ECS services deployed by CodeDeploy blue/green, one run for every service
version_added: 1.0.0
description:
  - Creates one ECS service C(<name>-microservice) per entry of O(services) on O(cluster), as the lab's
    C(create-<svc>-microservice-tg-two.json) does, with deployment controller C(CODE_DEPLOY), launch type
    C(FARGATE), scheduling strategy C(REPLICA), C(awsvpc) networking in O(subnets) with O(security_groups),
    the service's C(two) target group of O(target_groups) in front of container C(<name>) on its C(port),
    and the latest ACTIVE revision of the service's task definition family.
  - On an existing service it changes only what ECS lets UpdateService change on a CODE_DEPLOY service,
    the desired count, and only when one is set (O(desired_count) or the service's C(desired_count)). A
    different task definition, load balancer or network configuration, which ECS refuses to update on such
    a service, is reported in RV(services[].differences) with what to do, and as a warning; the module
    never calls an update that ECS refuses, and it does not count as a change.
  - A service whose PRIMARY task set CodeDeploy has moved to the other target group of the pair (C(one)),
    or to a newer revision that is now the family's latest, is converged. So is a service that runs a release
    of the latest revision's content (the revision a pipeline registered from it, images pinned by digest),
    however many releases came between.
  - Every input is checked before the first change; a family with no ACTIVE revision, or whose container
    C(<name>) does not map the service's port, fails the whole run before any service is created.
  - With O(state=absent) each ACTIVE service is scaled to 0 and deleted (force), then the module waits
    until ECS has drained them (status INACTIVE), so that the next converge can create them again.
  - A service still DRAINING from an earlier delete cannot be created again (ECS answers
    C(Unable to Start a service that is still Draining.)); O(state=present) waits up to O(wait_timeout)
    seconds for it to become INACTIVE, then creates it; after the timeout it fails saying so.
  - Written because community.aws.ecs_service (10.0.0) gets CODE_DEPLOY services wrong. On an existing
    CODE_DEPLOY service it ignores a task definition difference and reports C(ok) for a service that does not
    run what was asked; for a load balancer or network difference it calls UpdateService without them and
    reports C(changed) at every run while nothing changes, which is also what a service looks like to it
    once CodeDeploy has moved it to the other target group of the pair (it compares the service's own
    fields, not the pair); its C(load_balancers) require a C(role) the lab does not use; a service still
    DRAINING is created again, which ECS refuses; and it handles one service per task.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  services:
    description:
      - Services as entries of the C(microservices) list (C(name), C(port), C(family) are used; see
        the collection's README for the keys and their rules).
    type: list
    elements: dict
    required: true
  target_groups:
    description:
      - "Target groups per service name, as the load_balancer role publishes them
        (C({customer: {one: {arn: ...}, two: {arn: ...}}}))."
      - The service is created behind C(two); either C(one) or C(two) is converged afterwards.
      - Required with O(state=present).
    type: dict
    default: {}
  subnets:
    description: Subnet IDs of the tasks (the lab's two public subnets). Required with O(state=present).
    type: list
    elements: str
    default: []
  security_groups:
    description: Security group IDs of the tasks. Required with O(state=present).
    type: list
    elements: str
    default: []
  assign_public_ip:
    description: Give each task a public IP (the lab's tasks pull from ECR through the internet gateway).
    type: bool
    default: true
  desired_count:
    description:
      - Desired count of every service whose entry in O(services) sets no C(desired_count) (a service's own
        C(desired_count), 0 to 5000, wins). A count that is set is converged, in place (UpdateService, which ECS
        allows on a CODE_DEPLOY service); in the lab's task 9.4, C(customer) has 3.
      - Unset (the default, and no C(desired_count) in the entry), a service is created with 1 task and an
        existing service keeps its count, whoever changed it (by hand, or an Application Auto Scaling policy).
    type: int
  state:
    description: C(present) creates or updates the services; C(absent) scales them to 0, deletes and drains them.
    type: str
    choices: [present, absent]
    default: present
  lab:
    description:
      - The lab the services belong to (its CodeDeploy application name). When set, each ECS service carries
        the collection's ownership tags (C(cloudlab:managed-by), C(cloudlab:lab), C(cloudlab:service), the
        service's entry name); an existing one that lacks one gets it, and no other tag is touched.
    type: str
  wait_timeout:
    description:
      - Seconds to wait for services to drain, after a delete (O(state=absent)) or before creating a service
        whose predecessor still drains (O(state=present)).
      - C(0) does not wait; a draining service then fails the run with what to do.
    type: int
    default: 600
extends_documentation_fragment:
  - cloudlab.microservices.attributes
  - cloudlab.microservices.services
  - cloudlab.microservices.attributes.actiongroup_aws
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - Predicts creations, desired count updates, deletions and the differences it would report;
        changes nothing and does not wait.
      - A cluster that does not exist yet, or a family with no ACTIVE revision yet, is taken as something
        an earlier play of the same check run would create; a warning says so instead of a failure.
  diff_mode:
    support: full
    details: Before and after of each service created, updated or deleted (task definition, target group,
      network, desired count, status, and the ownership tags it adds).
  idempotent:
    support: full
    details: A second run with the same arguments changes nothing and reports the same differences.
"""

EXAMPLES = r"""
- name: The lab's two services behind their tg-two, deployed by CodeDeploy
  cloudlab.microservices.ecs_codedeploy_service:
    cluster: microservices-serverlesscluster
    services:
      - name: customer
      - name: employee
    target_groups: "{{ load_balancer_target_groups }}"
    subnets: "{{ aws_context_subnet_ids }}"
    security_groups: ["{{ load_balancer_security_group_id }}"]
  register: services

- name: Phase 9.4, customer scaled to 3 tasks (employee keeps its count)
  cloudlab.microservices.ecs_codedeploy_service:
    cluster: microservices-serverlesscluster
    services:
      - name: customer
        desired_count: 3
      - name: employee
    target_groups: "{{ load_balancer_target_groups }}"
    subnets: "{{ aws_context_subnet_ids }}"
    security_groups: ["{{ load_balancer_security_group_id }}"]

- name: Delete them (scaled to 0, deleted, drained)
  cloudlab.microservices.ecs_codedeploy_service:
    cluster: microservices-serverlesscluster
    services: [{name: customer}, {name: employee}]
    state: absent
"""

RETURN = r"""
services:
  description: One entry per service, in the order of O(services).
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: The C(microservices) entry's name.
      type: str
      sample: customer
    name:
      description: ECS service name.
      type: str
      sample: customer-microservice
    arn:
      description: Service ARN (predicted in check mode; empty when absent).
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:service/microservices-serverlesscluster/customer-microservice
    action:
      description: C(create), C(update), C(delete), C(none) (nothing to do or nothing ECS allows).
      type: str
    status:
      description: ECS status after the run (C(ACTIVE), C(DRAINING), C(INACTIVE), C(MISSING)); predicted in check mode.
      type: str
    task_definition:
      description: Task definition ARN the service runs (its PRIMARY task set's).
      type: str
    target_group_arn:
      description: Target group the PRIMARY task set is behind.
      type: str
    desired_count:
      description: Desired count after the run.
      type: int
    running_count:
      description: Running tasks (0 until CodeDeploy's first deployment).
      type: int
    differences:
      description: What differs and ECS does not let UpdateService change on a CODE_DEPLOY service, with what to do.
      type: list
      elements: dict
      sample:
        - field: task_definition
          current: arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:1
          desired: arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:2
          action: "a new task definition goes out through CodeDeploy: ..."
arns:
  description: Service name of each entry to its ARN (absent services left out).
  returned: always
  type: dict
  sample: {"customer": "arn:aws:ecs:us-east-1:123456789012:service/microservices-serverlesscluster/customer-microservice"}
details:
  description: Entry name to its RV(services[]) entry without C(service), for summaries.
  returned: always
  type: dict
names:
  description: Entry name to ECS service name.
  returned: always
  type: dict
  sample: {"customer": "customer-microservice"}
differences:
  description: Number of differences reported over all services.
  returned: always
  type: int
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import error_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import warn
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import compare
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import container_problem
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import create_params
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import describe_batches
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import desired_services
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import desired_state
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import is_active
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import state_of
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import tags_of
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import ServiceError
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import check_services
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import is_release_of
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import SERVICE_OPTIONS

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports it

STILL_DRAINING = "still Draining"


def _cluster_name(cluster):
    return cluster.split("/")[-1]


def _predicted_arn(task_definition_arn, cluster, name):
    """The long-format service ARN ECS gives, from the account and region of a task definition ARN."""
    if not task_definition_arn or not task_definition_arn.startswith("arn:"):
        return ""
    parts = task_definition_arn.split(":")
    return "arn:%s:ecs:%s:%s:service/%s/%s" % (parts[1], parts[3], parts[4], _cluster_name(cluster), name)


def latest_task_definition(ecs, family):
    """The family's latest ACTIVE revision, or None."""
    try:
        found = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
    except botocore.exceptions.ClientError as e:
        if error_code(e) == "ClientException":
            return None
        raise CloudlabError(message="Failed to describe task definition family %s" % family, exception=e) from e
    # Some endpoints answer with a deregistered (INACTIVE) last revision: not a current one.
    return found if found.get("status", "ACTIVE") == "ACTIVE" else None


@aws_call("describe the task definition a service runs")
def describe_task_definition(ecs, arn):
    return ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]


@aws_call("describe the ECS services")
def describe(ecs, cluster, names, check_mode):
    """name -> described service (None when missing)."""
    found = dict((n, None) for n in names)
    for batch in describe_batches(names):
        try:
            answer = ecs.describe_services(cluster=cluster, services=batch, include=["TAGS"])
        except botocore.exceptions.ClientError as e:
            if error_code(e) != "ClusterNotFoundException":
                raise
            if check_mode:
                return found
            raise CloudlabError(message="Failed to find the ECS cluster %s: create it first (playbooks/phase5.yml, "
                                        "task 5.2) or set ecs_services_cluster (module option cluster)"
                                % _cluster_name(cluster), exception=e) from e
        for svc in answer.get("services") or []:
            found[svc["serviceName"]] = svc
    return found


def wait_inactive(module, ecs, cluster, names, timeout):
    """Poll until none of ``names`` is DRAINING; returns the last description."""
    deadline = time.time() + timeout
    delay = 1
    while True:
        current = describe(ecs, cluster, names, False)
        draining = [n for n in names if current[n] and current[n]["status"] == "DRAINING"]
        if not draining:
            return current
        if time.time() + delay > deadline:
            raise CloudlabError(message=(
                "Failed to wait for ECS service(s) %s on cluster %s: still DRAINING after %ss (a service deleted "
                "a moment ago drains its tasks before ECS lets a service of the same name be created again); "
                "rerun when DescribeServices shows them INACTIVE, or raise ecs_services_wait_timeout (module "
                "option wait_timeout)" % (", ".join(draining), _cluster_name(cluster), timeout)))
        time.sleep(delay)
        delay = min(delay * 2, 15)


def _entry(desired, state, action, differences=None, current=None):
    return dict(service=desired["key"], name=desired["name"], arn=(current or {}).get("serviceArn") or "",
                action=action, status=(state or {}).get("status") or "MISSING",
                task_definition=(state or {}).get("task_definition") or "",
                target_group_arn=(state or {}).get("target_group_arn") or "",
                desired_count=(state or {}).get("desired_count") or 0,
                running_count=(current or {}).get("runningCount") or 0,
                differences=differences or [])


def _diff_view(state):
    if not state:
        return None
    keys = ("status", "task_definition", "target_group_arn", "subnets", "security_groups", "assign_public_ip",
            "desired_count")
    return dict((k, state[k]) for k in keys)


def ensure_present(module, ecs, params, wanted):
    check = module.check_mode
    cluster = params["cluster"]

    # 1. Everything a create needs, before the first change.
    latest, latest_found, problems = {}, {}, []
    for desired in wanted:
        found = latest_task_definition(ecs, desired["family"])
        if found is None:
            message = ("task definition family %s of service %s has no ACTIVE revision: register it first "
                       "(playbooks/phase5.yml, task 5.4) or set `family` in its microservices entry"
                       % (desired["family"], desired["key"]))
            if check:
                warn(module, message + "; in check mode this is taken as registered by an earlier play of the run")
                latest[desired["key"]] = None
                continue
            problems.append(message)
            continue
        latest[desired["key"]] = found["taskDefinitionArn"]
        latest_found[desired["key"]] = found
        why = container_problem(desired, found)
        if why:
            problems.append("service %s: %s" % (desired["key"], why))
    if problems:
        raise CloudlabError(message="Failed to validate the services, nothing was changed: %s" % "; ".join(problems))

    names = [d["name"] for d in wanted]
    current = describe(ecs, cluster, names, check)
    draining = [n for n in names if current[n] and current[n]["status"] == "DRAINING"]
    if draining and not check:
        current.update(wait_inactive(module, ecs, cluster, draining, params["wait_timeout"]))

    entries, before, after, changed = [], {}, {}, False
    for desired in wanted:
        svc = current[desired["name"]]
        arn_td = latest[desired["key"]]
        if not is_active(svc):
            after_state = desired_state(desired, arn_td)
            created = None
            if not check:
                created = create(module, ecs, params, desired, arn_td)
                after_state = state_of(created)
            entry = _entry(desired, after_state, "create", current=created)
            if check:
                entry["arn"] = _predicted_arn(arn_td, cluster, desired["name"])
                entry["status"] = "ACTIVE"
            entries.append(entry)
            before[desired["name"]], after[desired["name"]] = _diff_view(state_of(svc)), _diff_view(after_state)
            if _owner(params, desired):
                after[desired["name"]]["tags"] = _owner(params, desired)
            changed = True
            continue
        have = state_of(svc)
        if arn_td and have["task_definition"] and have["task_definition"] != arn_td:
            # What a pipeline deployed (the latest's content, its image pinned by digest) is the latest.
            if is_release_of(latest_found[desired["key"]], describe_task_definition(ecs, have["task_definition"])):
                arn_td = have["task_definition"]
        tags = tags_of(svc)
        lacking = _lab.missing_tags(tags, _owner(params, desired))
        if lacking:
            if not check:
                tag_service(ecs, svc["serviceArn"], lacking)
            before[desired["name"]] = dict(_diff_view(have), tags=tags)
            after[desired["name"]] = dict(_diff_view(have), tags=dict(lacking, **tags))
            changed = True
        update, refused = compare(have, desired, arn_td)
        for diff in refused:
            warn(module, "ECS service %s: %s is %s, wanted %s; not updated: %s" % (
                desired["name"], diff["field"], diff["current"], diff["desired"], diff["action"]))
        if not update:
            entries.append(_entry(desired, have, "update" if lacking else "none", refused, svc))
            continue
        updated = svc
        if not check:
            updated = update_service(ecs, cluster, desired["name"], update)
        after_state = dict(have, desired_count=update["desiredCount"]) if check else state_of(updated)
        entries.append(_entry(desired, after_state, "update", refused, updated))
        before[desired["name"]] = dict(before.get(desired["name"]) or {}, **_diff_view(have))
        after[desired["name"]] = dict(after.get(desired["name"]) or {}, **_diff_view(after_state))
        changed = True
    return changed, entries, before, after


def _owner(params, desired):
    return _lab.owner_tags(params["lab"], desired["key"]) if params["lab"] else {}


@aws_call("add the ownership tags to an ECS service")
def tag_service(ecs, arn, tags):
    ecs.tag_resource(resourceArn=arn, tags=[dict(key=k, value=v) for k, v in sorted(tags.items())])


def create(module, ecs, params, desired, task_definition_arn):
    kwargs = create_params(params["cluster"], desired, task_definition_arn, _owner(params, desired))
    for attempt in (1, 2):
        try:
            return ecs.create_service(**kwargs)["service"]
        except botocore.exceptions.ClientError as e:
            message = e.response.get("Error", {}).get("Message", "")
            # A delete between our describe and this create: wait for the drain once, then retry.
            if attempt == 1 and STILL_DRAINING in message and params["wait_timeout"] > 0:
                wait_inactive(module, ecs, params["cluster"], [desired["name"]], params["wait_timeout"])
                continue
            raise CloudlabError(message="Failed to create ECS service %s on cluster %s" % (
                desired["name"], _cluster_name(params["cluster"])), exception=e) from e


@aws_call("update the desired count of an ECS service")
def update_service(ecs, cluster, name, update):
    return ecs.update_service(cluster=cluster, service=name, **update)["service"]


@aws_call("delete an ECS service")
def delete_service(ecs, cluster, svc):
    if svc.get("desiredCount"):
        ecs.update_service(cluster=cluster, service=svc["serviceName"], desiredCount=0)
    return ecs.delete_service(cluster=cluster, service=svc["serviceName"], force=True)["service"]


def ensure_absent(module, ecs, params, wanted):
    cluster = params["cluster"]
    names = [d["name"] for d in wanted]
    # A cluster already gone holds no service: nothing to delete.
    current = describe(ecs, cluster, names, True)
    entries, before, after, changed, waiting = [], {}, {}, False, []
    for desired in wanted:
        svc = current[desired["name"]]
        have = state_of(svc)
        if svc is None or svc["status"] == "INACTIVE":
            entries.append(_entry(desired, have, "none", current=svc))
            continue
        if svc["status"] == "DRAINING":
            waiting.append(desired["name"])
            entries.append(_entry(desired, have, "none", current=svc))
            continue
        if not module.check_mode:
            svc = delete_service(ecs, cluster, svc)
            waiting.append(desired["name"])
        gone = dict(have, status="INACTIVE" if params["wait_timeout"] > 0 else "DRAINING", desired_count=0)
        entries.append(_entry(desired, gone, "delete", current=svc))
        before[desired["name"]], after[desired["name"]] = _diff_view(have), _diff_view(gone)
        changed = True
    if waiting and not module.check_mode and params["wait_timeout"] > 0:
        final = wait_inactive(module, ecs, cluster, waiting, params["wait_timeout"])
        for entry in entries:
            if entry["name"] in final and final[entry["name"]]:
                entry["status"] = final[entry["name"]]["status"]
    return changed, entries, before, after


def main_run(module):
    params = module.params
    try:
        services = check_services(params["services"], variable="services")
    except ServiceError as e:
        raise CloudlabError(message=str(e)) from e
    wanted, problems, unknown = desired_services(services, params["target_groups"], params["subnets"],
                                                 params["security_groups"], params["assign_public_ip"],
                                                 params["desired_count"], params["state"])
    if module.check_mode:
        for what in unknown:
            warn(module, what + "; in check mode this is taken as made by an earlier play of the run")
    else:
        problems.extend(what + ": run playbooks/phase6.yml first" for what in unknown)
    if problems:
        raise CloudlabError(message="Failed to validate the services, nothing was changed: %s" % "; ".join(problems))
    ecs = aws_client(module, "ecs")
    if params["state"] == "present":
        changed, entries, before, after = ensure_present(module, ecs, params, wanted)
    else:
        changed, entries, before, after = ensure_absent(module, ecs, params, wanted)
    result = dict(changed=changed, services=entries,
                  arns=dict((e["service"], e["arn"]) for e in entries if e["arn"] and e["status"] == "ACTIVE"),
                  names=dict((d["key"], d["name"]) for d in wanted),
                  details=dict((e["service"], dict((k, v) for k, v in e.items() if k != "service")) for e in entries),
                  differences=sum(len(e["differences"]) for e in entries))
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    return result


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        services=dict(type="list", elements="dict", options=SERVICE_OPTIONS, required=True),
        target_groups=dict(type="dict", default={}),
        subnets=dict(type="list", elements="str", default=[]),
        security_groups=dict(type="list", elements="str", default=[]),
        assign_public_ip=dict(type="bool", default=True),
        desired_count=dict(type="int"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait_timeout=dict(type="int", default=600),
        lab=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, main_run)


if __name__ == "__main__":
    main()
