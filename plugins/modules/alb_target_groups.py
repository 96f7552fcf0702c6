#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: alb_target_groups
short_description: The blue/green pairs of IP target groups of a list of services, in one run
version_added: 1.0.0
description:
  - For each service, creates or updates the two target groups C(<name>-tg-one) and C(<name>-tg-two)
    that CodeDeploy's ECS blue/green deployments switch between; target type C(ip), protocol HTTP, the
    service's C(port), the given VPC, health check path C(health_check_path) of the service.
  - With O(state=absent), deletes them; a group a listener or rule still uses is refused by AWS
    (C(ResourceInUse)), and the message says to remove the load balancer's listeners first.
  - Written because community.aws.elb_target_group (10.0.0) does not do the job right here. It has no check
    mode at all (a C(--check) run skips it, so it predicts nothing), no diff, and handles one group per run,
    where the lab needs two per service (four module runs for two services instead of one).
  - Port, protocol, target type and VPC of a target group cannot change; a group that differs in one of
    them is reported as an error, naming the service and what to do, and nothing is changed.
  - Groups of services no longer in the list are left alone.
  - With O(lab), each group carries the collection's ownership tags (C(cloudlab:managed-by), C(cloudlab:lab),
    C(cloudlab:service)); an existing group that lacks one gets it, and no other tag is touched.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  services:
    description:
      - The services, as the C(microservices) list (C(name), C(port), C(health_check_path) are used).
    type: list
    elements: dict
    required: true
  vpc_id:
    description: VPC of the target groups. Required with O(state=present).
    type: str
  lab:
    description: The lab the groups belong to (its CodeDeploy application name); omitted, no tag is managed.
    type: str
  state:
    description: Whether the target groups should exist.
    type: str
    choices: [present, absent]
    default: present
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
    details: Predicts each group to create or update, and makes none.
  diff_mode:
    support: full
    details: Shows each group's port, VPC, health check path and ownership tags before and after.
  idempotent:
    support: full
    details: Groups in the desired state are left alone.
"""

EXAMPLES = r"""
- name: The target groups of the lab's two services
  cloudlab.microservices.alb_target_groups:
    vpc_id: vpc-0123456789abcdef0
    services:
      - name: customer
      - name: employee
        health_check_path: /admin/suppliers
  register: tgs
"""

RETURN = r"""
target_groups:
  description: Per service, its pair of target groups (ARN '' when not created yet, in check mode).
  returned: always
  type: dict
  sample:
    customer:
      one: {name: customer-tg-one, arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/customer-tg-one/0a1b"}
      two: {name: customer-tg-two, arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/customer-tg-two/2c3d"}
actions:
  description: What was done (or would be done in check mode), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create customer-tg-one", "update employee-tg-two health check path / -> /admin/suppliers"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._elb_tags import add_tags
from ansible_collections.cloudlab.microservices.plugins.module_utils._elb_tags import as_list
from ansible_collections.cloudlab.microservices.plugins.module_utils._elb_tags import read_tags
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import SERVICE_OPTIONS
from ansible_collections.cloudlab.microservices.plugins.module_utils._target_groups import PROTOCOL
from ansible_collections.cloudlab.microservices.plugins.module_utils._target_groups import change
from ansible_collections.cloudlab.microservices.plugins.module_utils._target_groups import refusal
from ansible_collections.cloudlab.microservices.plugins.module_utils._target_groups import wanted


def list_target_groups(elb):
    groups = []
    for page in elb.get_paginator("describe_target_groups").paginate():
        groups.extend(page["TargetGroups"])
    return dict((g["TargetGroupName"], g) for g in groups)


def _view(group):
    if not group:
        return None
    return dict((k, group.get(k)) for k in ("Port", "Protocol", "TargetType", "VpcId", "HealthCheckPath"))


def ensure(module):
    p = module.params
    elb = aws_client(module, "elbv2")
    for index, svc in enumerate(p["services"]):
        if not svc["name"]:
            raise CloudlabError(message="Failed to validate services[%d]: each service needs a name" % index)
    if p["state"] == "present" and not p["vpc_id"]:
        raise CloudlabError(message="Failed to validate vpc_id: a VPC id is required with state=present")
    desired = wanted(p["services"], p["vpc_id"])
    current = list_target_groups(elb)
    actions, before, after = [], {}, {}
    tags = {}
    if p["lab"] and p["state"] == "present":
        tags = read_tags(elb, [current[n]["TargetGroupArn"] for n in desired if n in current])

    # Every group is checked before the first change, so that a refused one changes nothing.
    for name, (service, which, want) in desired.items():
        group = current.get(name)
        before[name] = _view(group)
        if group is not None and p["lab"] and p["state"] == "present":
            before[name]["tags"] = tags.get(group["TargetGroupArn"], {})
    if p["state"] == "present":
        refused = refusal(desired, current)
        if refused:
            raise CloudlabError(message=refused)

    result_groups = {}
    for name, (service, which, want) in desired.items():
        group = current.get(name)
        if p["state"] == "absent":
            after[name] = None
            if group is not None:
                actions.append("delete %s" % name)
                if not module.check_mode:
                    delete(elb, group)
            continue
        owner = _lab.owner_tags(p["lab"], service) if p["lab"] else {}
        have = tags.get(group["TargetGroupArn"], {}) if group is not None else {}
        created, health, lacking = change(name, group, want, have, owner)
        if created:
            actions.append("create %s" % name)
            if not module.check_mode:
                group = create(elb, name, want, owner)
        elif health:
            actions.append("update %s health check path %s -> %s" % (
                name, group.get("HealthCheckPath"), want["HealthCheckPath"]))
            if not module.check_mode:
                group = modify(elb, group, want)
        if lacking:
            actions.append("tag %s with %s" % (name, ", ".join(sorted(lacking))))
            if not module.check_mode:
                add_tags(elb, group["TargetGroupArn"], lacking)
        after[name] = dict(_view(group) or {}, **want)
        if owner:
            after[name]["tags"] = dict(owner, **have)
        result_groups.setdefault(service, {})[which] = dict(name=name, arn=(group or {}).get("TargetGroupArn", ""))

    result = dict(changed=bool(actions), actions=actions, target_groups=result_groups)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    return result


@aws_call("create a target group")
def create(elb, name, want, tags):
    extra = dict(Tags=as_list(tags)) if tags else {}
    return elb.create_target_group(Name=name, HealthCheckProtocol=PROTOCOL, HealthCheckEnabled=True,
                                   **dict(want, **extra))["TargetGroups"][0]


@aws_call("update the health check of a target group")
def modify(elb, group, want):
    return elb.modify_target_group(TargetGroupArn=group["TargetGroupArn"], HealthCheckProtocol=PROTOCOL,
                                   HealthCheckPath=want["HealthCheckPath"])["TargetGroups"][0]


@aws_call("delete a target group")
def delete(elb, group):
    try:
        elb.delete_target_group(TargetGroupArn=group["TargetGroupArn"])
    except missing_code("TargetGroupNotFound"):
        pass
    except missing_code("ResourceInUse") as e:  # pylint: disable=duplicate-except
        raise CloudlabError(message=(
            "Failed to delete target group %s: a listener or rule still forwards to it; remove the load "
            "balancer's listeners first (the load_balancer role with load_balancer_state=absent does it in "
            "that order)" % group["TargetGroupName"]), exception=e) from e


def main():
    argument_spec = dict(
        services=dict(type="list", elements="dict", options=SERVICE_OPTIONS, required=True),
        vpc_id=dict(type="str"),
        lab=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, ensure)


if __name__ == "__main__":
    main()
