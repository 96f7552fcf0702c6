#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecs_taskdef_sync
short_description: Register ECS task definitions only when their content changed
version_added: 0.1.0
description:
  - Takes a list of task definitions, each written as the input of RegisterTaskDefinition
    (what C(aws ecs register-task-definition --cli-input-json) reads), and registers a new revision
    of a family only when its content differs from the family's latest ACTIVE revision.
  - ECS itself makes a new revision at every register call, even for identical content.
  - Both sides are normalised before the comparison; fields ECS adds (C(taskDefinitionArn),
    C(revision), C(status), C(requiresAttributes), C(compatibilities), C(registeredAt),
    C(registeredBy)) are dropped, so are empty lists and maps, defaults ECS fills in (container
    C(cpu=0), C(essential=true), port mapping protocol C(tcp), host port in C(awsvpc) mode) are
    made explicit, and order-free lists (C(environment), C(secrets), C(volumes), containers, ...)
    are compared by their names, values included.
  - Written because community.aws.ecs_taskdefinition (10.0.0) is wrong for this. Its comparison of
    an existing revision with the requested one treats two lists of the same length as equal, so a
    changed environment value (a new C(APP_DB_HOST), say) registers nothing; it also handles one task
    definition per call, where a deployment has one per service.
  - Task definition tags are not compared; they are sent with a new revision only.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  task_definitions:
    description:
      - Task definitions, each a dict in RegisterTaskDefinition's input form (camelCase keys,
        C(family) required).
      - Families must be distinct.
    type: list
    elements: dict
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reports which families would get a new revision and the revision it would be; registers nothing.
  diff_mode:
    support: full
    description: Shows the normalised content of the latest ACTIVE revision and of the requested one, per family.
  idempotent:
    support: full
    description: A family whose latest ACTIVE revision has the requested content gets no new revision.
"""

EXAMPLES = r"""
- name: Register the task definitions of both services when they changed
  cloudlab.microservices.ecs_taskdef_sync:
    task_definitions:
      - "{{ lookup('ansible.builtin.template', 'taskdef-customer.json.j2') | from_json }}"
      - "{{ lookup('ansible.builtin.template', 'taskdef-employee.json.j2') | from_json }}"
  register: taskdefs

- name: ARN of each family's current revision
  ansible.builtin.debug:
    msg: "{{ taskdefs.arns }}"
"""

RETURN = r"""
task_definitions:
  description: One entry per requested task definition, in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    family:
      description: Family.
      type: str
      sample: customer-microservice
    changed:
      description: Whether a new revision was (or, in check mode, would be) registered.
      type: bool
    arn:
      description:
        - ARN of the revision that now has the requested content.
        - In check mode, the ARN the new revision would get; null for a family that does not exist yet.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:2
    revision:
      description: Revision number of RV(task_definitions[].arn) (null when unknown in check mode).
      type: int
      sample: 2
    previous_arn:
      description: ARN of the latest ACTIVE revision before the run, null when the family had none.
      type: str
arns:
  description: Family to ARN of its revision with the requested content.
  returned: always
  type: dict
  sample: {"customer-microservice": "arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:2"}
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_message
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import differs
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import normalise
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import validate_register_input

AWS_ERRORS = ()
try:
    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except NameError:
    pass


def describe_latest(client, family):
    """The family's latest ACTIVE revision, or None when it has none."""
    try:
        found = client.describe_task_definition(taskDefinition=family, aws_retry=True)["taskDefinition"]
    # ECS answers a family with no ACTIVE revision (unknown, or all INACTIVE) with this ClientException.
    except is_boto3_error_message("Unable to describe task definition"):
        return None
    # Some endpoints (moto 5) answer with the last revision even when it was
    # deregistered: it must not count as the current one, or a family whose
    # revisions were all deregistered would never get an ACTIVE one again.
    return found if found.get("status", "ACTIVE") == "ACTIVE" else None


def _next_arn(arn):
    base, revision = arn.rsplit(":", 1)
    return "%s:%d" % (base, int(revision) + 1), int(revision) + 1


def sync_one(module, client, desired):
    family = desired["family"]
    try:
        current = describe_latest(client, family)
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg="Failed to describe task definition family %s" % family)
    entry = dict(family=family, previous_arn=current and current["taskDefinitionArn"])
    entry["changed"] = differs(desired, current)
    if not entry["changed"]:
        entry.update(arn=current["taskDefinitionArn"], revision=current["revision"])
    elif module.check_mode:
        entry["arn"], entry["revision"] = _next_arn(current["taskDefinitionArn"]) if current else (None, None)
    else:
        try:
            registered = client.register_task_definition(aws_retry=True, **desired)["taskDefinition"]
        except AWS_ERRORS as e:
            module.fail_json_aws(e, msg="Failed to register task definition %s: check the taskdef_appspec "
                                        "variables that build it (execution role, image, ports)" % family)
        entry.update(arn=registered["taskDefinitionArn"], revision=registered["revision"])
    diff = dict(before={family: normalise(current) if current else None}, after={family: normalise(desired)})
    return entry, diff


def main():
    argument_spec = dict(
        task_definitions=dict(type="list", elements="dict", required=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    wanted = module.params["task_definitions"]

    # Every input is checked before the first call, so that a bad one changes nothing.
    families = []
    for index, td in enumerate(wanted):
        if not td.get("family"):
            module.fail_json(msg="Failed to validate task_definitions[%d]: it has no family" % index)
        problems = validate_register_input(td)
        if problems:
            module.fail_json(msg="Failed to validate task_definitions[%d] (%s) as RegisterTaskDefinition input: %s"
                             % (index, td["family"], "; ".join(problems)))
        families.append(td["family"])
    if len(set(families)) != len(families):
        module.fail_json(msg="Failed to validate task_definitions: families must be distinct, got %s"
                         % ", ".join(families))

    # ECS answers throttled calls with ThrottlingException, which is not in
    # AWSRetry's default list of retryable codes.
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff(
        catch_extra_error_codes=["ThrottlingException"]))
    entries, before, after = [], {}, {}
    for td in wanted:
        entry, diff = sync_one(module, client, td)
        entries.append(entry)
        before.update(diff["before"])
        after.update(diff["after"])

    result = dict(changed=any(e["changed"] for e in entries), task_definitions=entries,
                  arns=dict((e["family"], e["arn"]) for e in entries))
    if module._diff:
        changed = [e["family"] for e in entries if e["changed"]]
        result["diff"] = dict(before=dict((f, before[f]) for f in changed),
                              after=dict((f, after[f]) for f in changed))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
