#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fargate_cluster_plan
short_description: Decide the lab's Fargate cluster name and what its CloudFormation stack needs, reading only
version_added: 1.0.0
description:
  - Reads, in one run, the clusters the lab's names point at (DescribeClusters), this role's stacks for those
    names (C(Infra-ECS-Cluster-<cluster>), or O(stack_name)), the resources they own, and the deployed template,
    parameters and tags; changes nothing.
  - "Applies the lab's C(-c) rule: a name is taken only by an C(ACTIVE) (or C(PROVISIONING)) cluster that this
    role's stack for that name does not own. A cluster deleted moments ago (C(INACTIVE), still listed by ECS for
    a while) does not hold its name. When the name is not the requested one, the module warns and says why."
  - Compares the deployed template, parameters and tags with the desired ones and says whether a deploy is
    needed and why (RV(action), RV(reason)). The stack itself is deployed with M(amazon.aws.cloudformation), only
    when a deploy is needed.
  - Written because no module of amazon.aws or community.aws answers the question. A change set
    (M(amazon.aws.cloudformation) in check mode) costs a round trip and, on moto, always lists a change even for
    an unchanged template; M(amazon.aws.cloudformation_info) does not normalise list parameters; community.aws
    has no ECS cluster info module, and M(community.aws.ecs_cluster) fails on moto's partial answers.
  - For a stack that failed or rolled back, returns its failed and latest events as lines (RV(failed_events),
    RV(latest_events)). With O(failure), fails with one message holding that error and those events.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  requested_name:
    description: Cluster name the lab asks for; C(<name>-c) when a cluster this role's stack does not own holds it.
    type: str
    default: microservices-serverlesscluster
  cluster_name:
    description:
      - The name an earlier run of this module chose. Skips the C(-c) rule (used to read the stack again after a
        deploy). Empty applies the rule.
    type: str
    default: ""
  stack_name:
    description: Stack name. Empty means C(Infra-ECS-Cluster-<cluster name>), underscores made hyphens.
    type: str
    default: ""
  template_body:
    description: The desired template (YAML or JSON text).
    type: str
    required: true
  vpc_id:
    description: Parameter C(VpcId).
    type: str
    required: true
  subnet_ids:
    description: Parameter C(SubnetIds).
    type: list
    elements: str
    required: true
  security_group_ids:
    description: Parameter C(SecurityGroupIds).
    type: list
    elements: str
    default: []
  container_insights:
    description: Parameter C(ContainerInsights).
    type: str
    choices: [enabled, disabled, enhanced]
    default: enabled
  service_connect:
    description: Give the cluster a Service Connect namespace (parameter C(ServiceConnectNamespace)).
    type: bool
    default: false
  service_connect_namespace:
    description: Namespace when O(service_connect) is on; empty means the cluster's name.
    type: str
    default: ""
  tags:
    description: Desired tags of the stack.
    type: dict
    default: {}
  failure:
    description:
      - The error of a deploy that failed. When set, the module reads the stack's events and fails with one
        message holding the error, the failed events and the latest events.
    type: str
    default: ""
  retried:
    description: With O(failure), say that the stack was deleted and created once more before this failure.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - cloudlab.microservices.attributes
  - cloudlab.microservices.attributes.actiongroup_aws
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode, so the role's check mode predicts from its answer.
  diff_mode:
    support: full
    details: When the stack would be created or updated, shows its status, parameters and tags before and after.
  idempotent:
    support: full
    details: Changes nothing; it never reports a change.
"""

EXAMPLES = r"""
- name: Choose the cluster's name and compare its stack with the template
  cloudlab.microservices.fargate_cluster_plan:
    requested_name: microservices-serverlesscluster
    template_body: "{{ lookup('ansible.builtin.file', 'fargate-cluster.cfn.yml') }}"
    vpc_id: "{{ aws_context_vpc_id }}"
    subnet_ids: "{{ aws_context_subnet_ids }}"
  register: plan

- name: Deploy the stack only when it needs it
  amazon.aws.cloudformation:
    stack_name: "{{ plan.stack_name }}"
    template_body: "{{ lookup('ansible.builtin.file', 'fargate-cluster.cfn.yml') }}"
    template_parameters: "{{ plan.parameters }}"
    tags: "{{ plan.tags }}"
  when: plan.deploy
"""

RETURN = r"""
cluster_name:
  description: The cluster name to use (the requested one, or C(<name>-c)).
  returned: always
  type: str
  sample: microservices-serverlesscluster
name_note:
  description: Why the name is not the requested one (also given as a warning); empty otherwise.
  returned: always
  type: str
stack_name:
  description: The stack that holds the cluster.
  returned: always
  type: str
  sample: Infra-ECS-Cluster-microservices-serverlesscluster
deploy:
  description: Whether M(amazon.aws.cloudformation) must run (RV(action) is create, update or recreate).
  returned: always
  type: bool
action:
  description:
    - C(none) (in sync), C(create), C(update), C(recreate) (a failed create left the stack, to delete and create
      again) or C(wait) (an operation is in progress, or a delete failed; a deploy now would fail).
  returned: always
  type: str
reason:
  description: Why, in one line.
  returned: always
  type: str
differences:
  description: One line per difference between the deployed and the desired stack.
  returned: always
  type: list
  elements: str
stack_status:
  description: The stack's status; empty when it does not exist.
  returned: always
  type: str
stack_outputs:
  description: The stack's outputs (C(ECSCluster), C(ClusterArn), C(VpcId), C(SubnetIds), C(SecurityGroupIds)).
  returned: always
  type: dict
cluster_arn:
  description: The cluster's ARN from the stack's outputs; empty before the stack exists.
  returned: always
  type: str
cluster_status:
  description: Status ECS reports for RV(cluster_name); empty when ECS does not know it.
  returned: always
  type: str
parameters:
  description: The desired parameters, as M(amazon.aws.cloudformation)'s O(amazon.aws.cloudformation#module:template_parameters) takes them.
  returned: always
  type: dict
tags:
  description: The desired tags, values as strings.
  returned: always
  type: dict
failed_events:
  description: "The stack's failed events, oldest first, as C(<type> <logical id> <status>: <reason>)."
  returned: when the stack is not CREATE_COMPLETE, UPDATE_COMPLETE or IMPORT_COMPLETE
  type: list
  elements: str
latest_events:
  description: The stack's latest events, newest first, in the same form.
  returned: when the stack is not CREATE_COMPLETE, UPDATE_COMPLETE or IMPORT_COMPLETE
  type: list
  elements: str
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils import _cluster as rules
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import warn
from ansible_collections.cloudlab.microservices.plugins.module_utils._stacks import cluster_statuses
from ansible_collections.cloudlab.microservices.plugins.module_utils._stacks import deployed_template
from ansible_collections.cloudlab.microservices.plugins.module_utils._stacks import read_stacks
from ansible_collections.cloudlab.microservices.plugins.module_utils._stacks import stack_events

CLEAN_EVENTS = rules.CLEAN_STATUSES
ADVICE = ("Check fargate_cluster_vpc_id, fargate_cluster_subnet_ids, fargate_cluster_security_group_ids and "
          "fargate_cluster_service_connect (the Service Connect namespace is the usual cause of a rollback).")


def _failure_message(p, cluster_name, stack_name, status, failed, latest):
    error = re.sub(r"^Failed to (create|update) stack \S+: ", "", p["failure"]).strip().rstrip(".")
    verb = "create" if p["retried"] or not status or status.startswith("CREATE") or status.startswith(
        "ROLLBACK") else "update"
    return ("Failed to %s stack %s (cluster %s)%s: %s. Failed events: %s. Latest stack events: %s. %s"
            % (verb, stack_name, cluster_name, " after deleting it and trying once more" if p["retried"] else "",
               error or "unknown error", " | ".join(failed) or "none recorded", " | ".join(latest[:5]) or "none",
               ADVICE))


def plan(module):
    p = module.params
    cfn = client(module, "cloudformation")
    ecs = client(module, "ecs")

    if not p["cluster_name"]:
        problem = rules.requested_name_problem(p["requested_name"], p["stack_name"])
        if problem:
            raise CloudlabError(message="Failed to choose a cluster name: " + problem)
    names = [p["cluster_name"]] if p["cluster_name"] else _lab.clusters(p["requested_name"])
    clusters = cluster_statuses(ecs, names)
    stacks = read_stacks(cfn, [_lab.stack(n, p["stack_name"]) for n in names],
                         owners=not p["cluster_name"])
    note = ""
    if p["cluster_name"]:
        name = p["cluster_name"]
    else:
        name, note = rules.choose_name(p["requested_name"], p["stack_name"], clusters, stacks)
        if name is None:
            raise CloudlabError(message=note)
        if note:
            warn(module, note[0].upper() + note[1:])
    stack_name = _lab.stack(name, p["stack_name"])
    found = stacks.get(stack_name)
    stack = found["stack"] if found else {}
    # The comparison lab_info's plan makes too (_cluster.compare_stack).
    compared = rules.compare_stack(name, stack, lambda: deployed_template(cfn, stack_name), p)
    status, parameters, tags = compared["status"], compared["parameters"], compared["tags"]
    current, desired, desired_template = compared["current"], compared["desired"], compared["desired"]["template"]
    action, reason, diffs = compared["action"], compared["reason"], compared["differences"]
    outputs = dict((o["OutputKey"], o.get("OutputValue", "")) for o in stack.get("Outputs", []))

    result = dict(changed=False, cluster_name=name, name_note=note, stack_name=stack_name,
                  deploy=action in ("create", "update", "recreate"), action=action, reason=reason,
                  differences=diffs, stack_status=status, stack_outputs=outputs,
                  cluster_arn=outputs.get("ClusterArn", ""), cluster_status=clusters.get(name, ""),
                  parameters=parameters, tags=tags)
    if status and status not in CLEAN_EVENTS:
        result["failed_events"], result["latest_events"] = rules.format_events(stack_events(cfn, stack_name))
    if p["failure"]:
        raise CloudlabError(message=_failure_message(p, name, stack_name, status, result.get("failed_events", []),
                                                     result.get("latest_events", [])))
    if action == "wait":
        raise CloudlabError(message="Failed to deploy stack %s (cluster %s): %s, and it cannot be changed until "
                            "that settles. Latest stack events: %s. Wait for the operation to finish (aws "
                            "cloudformation describe-stacks --stack-name %s), or delete the stack, then run again."
                            % (stack_name, name, reason, " | ".join(result.get("latest_events", [])[:5]) or "none",
                               stack_name))
    if module._diff and result["deploy"]:
        before = {"parameters": current["parameters"] if current else {}, "tags": current["tags"] if current else {}}
        after = {"parameters": desired["parameters"], "tags": tags}
        if current and current["template"] != desired_template:
            before["template"], after["template"] = current["template"], desired_template
        result["diff"] = {"before": before, "after": after, "before_header": stack_name, "after_header": stack_name}
    return result


def main():
    argument_spec = dict(
        requested_name=dict(type="str", default=_lab.CLUSTER),
        cluster_name=dict(type="str", default=""),
        stack_name=dict(type="str", default=""),
        template_body=dict(type="str", required=True),
        vpc_id=dict(type="str", required=True),
        subnet_ids=dict(type="list", elements="str", required=True),
        security_group_ids=dict(type="list", elements="str", default=[]),
        container_insights=dict(type="str", choices=["enabled", "disabled", "enhanced"], default="enabled"),
        service_connect=dict(type="bool", default=False),
        service_connect_namespace=dict(type="str", default=""),
        tags=dict(type="dict", default={}),
        failure=dict(type="str", default=""),
        retried=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, plan)


if __name__ == "__main__":
    main()
