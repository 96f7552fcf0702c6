#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecs_taskdef_sync
short_description: Register ECS task definitions only when their content changed, or deregister families
version_added: 1.0.0
description:
  - With O(state=present), takes a list of task definitions, each written as the input of RegisterTaskDefinition
    (what C(aws ecs register-task-definition --cli-input-json) reads), and registers a new revision
    of a family only when its content differs from the family's latest ACTIVE revision. One run for every
    service.
  - The lab's pipelines register a revision of the same family at every release (their CodeDeployToECS
    action), from the deployment repository's task definition with the image's digest URI
    (C(repo@sha256:...)) in place of C(<IMAGE1_NAME>). A latest revision that is the requested content with
    each image given by tag pinned to a digest of the same repository is that content released; nothing is
    registered and its ARN is returned, however many releases came before it. An image requested by digest
    must be that digest.
  - ECS itself makes a new revision at every register call, even for identical content.
  - Both sides are normalised before the comparison; fields ECS adds (C(taskDefinitionArn),
    C(revision), C(status), C(requiresAttributes), C(compatibilities), C(registeredAt),
    C(registeredBy)) are dropped, so are empty lists and maps, defaults ECS fills in (container
    C(cpu=0), C(essential=true), port mapping protocol C(tcp), host port in C(awsvpc) mode) are
    made explicit, and order-free lists (C(environment), C(secrets), C(volumes), containers, ...)
    are compared by their names, values included.
  - With O(state=absent), deregisters every ACTIVE revision of each family of O(families), in one run
    (ECS keeps them as INACTIVE, as the console does).
  - Written because community.aws.ecs_taskdefinition (10.0.0) is wrong for this. Its comparison of
    an existing revision with the requested one treats two lists of the same length as equal, so a
    changed environment value (a new C(APP_DB_HOST), say) registers nothing; it also handles one task
    definition (or one revision to deregister) per call, where a deployment has one per service.
  - Task definition tags are not compared; they are sent with a new revision only.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  task_definitions:
    description:
      - Task definitions, each a dict in RegisterTaskDefinition's input form (camelCase keys,
        C(family) required); required with O(state=present).
      - Families must be distinct.
      - Each entry is checked, before any call, against the RegisterTaskDefinition input shape of botocore's
        service model (every key, type and required field the API has), so it declares no suboptions of its
        own, which would be a copy of that schema lagging behind the API.
      - A container whose C(image) is null has an image not known yet (its ECR repository is still to be
        created, in check mode); the family is predicted to get a new revision, without an ARN. Outside check
        mode such an input fails.
    type: list
    elements: dict
  families:
    description: Families whose every ACTIVE revision is deregistered; required with O(state=absent).
    type: list
    elements: str
  state:
    description: C(present) registers what changed; C(absent) deregisters every ACTIVE revision of O(families).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - cloudlab.microservices.attributes
  - cloudlab.microservices.attributes.ACTIONGROUP_AWS
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - Reports which families would get a new revision and the revision it would be, or which revisions would be
        deregistered; changes nothing.
  diff_mode:
    support: full
    details: Shows the normalised content of the latest ACTIVE revision and of the requested one, per family.
  idempotent:
    support: full
    details: A family whose latest ACTIVE revision has the requested content, or is a release of it, gets no new
      revision.
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

- name: Deregister every revision of both families
  cloudlab.microservices.ecs_taskdef_sync:
    families: [customer-microservice, employee-microservice]
    state: absent
"""

RETURN = r"""
task_definitions:
  description: One entry per requested task definition, in the same order.
  returned: when O(state=present)
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
        - In check mode, the ARN the new revision would get; null for a family that does not exist yet or
          whose image is not known yet.
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
  returned: when O(state=present)
  type: dict
  sample: {"customer-microservice": "arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:2"}
deregistered:
  description: Family to the ARNs of the revisions deregistered (or, in check mode, that would be).
  returned: when O(state=absent)
  type: dict
  sample: {"customer-microservice": ["arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:1"]}
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_message
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import each
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import active
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import is_release_of
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import normalise
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import validate_register_input

# Stands in for an image not known yet, only to validate the rest of the input.
_UNKNOWN_IMAGE = "image-not-known-yet"


def describe_latest(client, family):
    """The family's latest ACTIVE revision, or None when it has none."""
    def call():
        try:
            return client.describe_task_definition(taskDefinition=family)["taskDefinition"]
        # ECS answers a family with no ACTIVE revision (unknown, or all INACTIVE) with this ClientException.
        except is_boto3_error_message("Unable to describe task definition"):
            return None

    # A deregistered revision some endpoints still answer with is not the current one (_taskdef.active), or a
    # family whose revisions were all deregistered would never get an ACTIVE one again.
    return active(aws_call("describe task definition family %s" % family)(call)())


def _register(client, desired):
    return aws_call("register task definition %s: check the taskdef_appspec variables that build it "
                    "(execution role, image, ports)" % desired["family"])(
        lambda: client.register_task_definition(**desired)["taskDefinition"])()


def _active_revisions(client, family):
    def listing():
        arns, token = [], None
        while True:
            kwargs = dict(familyPrefix=family, status="ACTIVE")
            if token:
                kwargs["nextToken"] = token
            page = client.list_task_definitions(**kwargs)
            arns.extend(page.get("taskDefinitionArns", []))
            token = page.get("nextToken")
            if not token:
                return arns
    found = aws_call("list the revisions of task definition family %s" % family)(listing)()
    # familyPrefix matches by prefix on AWS: keep the family's own revisions only.
    return [arn for arn in found if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]


def _deregister(client, arn):
    aws_call("deregister task definition %s" % arn)(
        lambda: client.deregister_task_definition(taskDefinition=arn))()


def _next_arn(arn):
    base, revision = arn.rsplit(":", 1)
    return "%s:%d" % (base, int(revision) + 1), int(revision) + 1


def _unknown_images(td):
    return [c.get("name") for c in td.get("containerDefinitions") or [] if isinstance(c, dict) and c.get("image") is None]


def sync_one(module, client, desired):
    family = desired["family"]
    current = describe_latest(client, family)
    entry = dict(family=family, previous_arn=current and current["taskDefinitionArn"])
    unknown = _unknown_images(desired)
    # A release's revision of our content (image pinned by digest) is our content: see the notes.
    entry["changed"] = bool(unknown) or not is_release_of(desired, current)
    if not entry["changed"]:
        entry.update(arn=current["taskDefinitionArn"], revision=current["revision"])
    elif unknown:
        entry.update(arn=None, revision=None)
    elif module.check_mode:
        entry["arn"], entry["revision"] = _next_arn(current["taskDefinitionArn"]) if current else (None, None)
    else:
        registered = _register(client, desired)
        entry.update(arn=registered["taskDefinitionArn"], revision=registered["revision"])
    diff = dict(before={family: normalise(current) if current else None}, after={family: normalise(desired)})
    return entry, diff


def validate(module):
    """Every input checked before the first call, so that a bad one changes nothing."""
    wanted = module.params["task_definitions"] or []
    families = []
    for index, td in enumerate(wanted):
        if not td.get("family"):
            raise CloudlabError("Failed to validate task_definitions[%d]: it has no family" % index)
        unknown = _unknown_images(td)
        if unknown and not module.check_mode:
            raise CloudlabError("Failed to validate task_definitions[%d] (%s): the image of container %s is not "
                                "known (its ECR repository has no URI yet); create the repository first "
                                "(ecr_repos) and wire its URI (taskdef_appspec_image_uris)"
                                % (index, td["family"], ", ".join(map(str, unknown))))
        probe = td
        if unknown:
            probe = dict(td, containerDefinitions=[
                dict(c, image=_UNKNOWN_IMAGE) if isinstance(c, dict) and c.get("image") is None else c
                for c in td["containerDefinitions"]])
        problems = validate_register_input(probe)
        if problems:
            raise CloudlabError("Failed to validate task_definitions[%d] (%s) as RegisterTaskDefinition input: %s"
                                % (index, td["family"], "; ".join(problems)))
        families.append(td["family"])
    if len(set(families)) != len(families):
        raise CloudlabError("Failed to validate task_definitions: families must be distinct, got %s"
                            % ", ".join(families))
    return wanted


def ensure_present(module):
    wanted = validate(module)
    client = aws_client(module, "ecs")
    entries, before, after = [], {}, {}
    # One family per worker; merged here in the order given.
    synced = each(lambda td: sync_one(module, client, td), wanted, lambda td: td["family"],
                  "sync task definition family")
    for entry, diff in synced:
        entries.append(entry)
        before.update(diff["before"])
        after.update(diff["after"])
    result = dict(changed=any(e["changed"] for e in entries), task_definitions=entries,
                  arns=dict((e["family"], e["arn"]) for e in entries))
    if module._diff:
        changed = [e["family"] for e in entries if e["changed"]]
        result["diff"] = dict(before=dict((f, before[f]) for f in changed),
                              after=dict((f, after[f]) for f in changed))
    return result


def ensure_absent(module):
    families = module.params["families"] or []
    client = aws_client(module, "ecs")

    def one(family):
        arns = _active_revisions(client, family)
        if not module.check_mode:
            for arn in arns:
                _deregister(client, arn)
        return arns

    gone = dict(zip(families, each(one, families, str, "deregister task definition family")))
    result = dict(changed=any(gone.values()), deregistered=gone)
    if module._diff:
        result["diff"] = dict(before=dict((f, a) for f, a in gone.items() if a),
                              after=dict((f, []) for f, a in gone.items() if a))
    return result


def main():
    argument_spec = dict(
        task_definitions=dict(type="list", elements="dict"),
        families=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                              required_if=[("state", "present", ["task_definitions"]),
                                           ("state", "absent", ["families"])])
    run(module, ensure_present if module.params["state"] == "present" else ensure_absent)


if __name__ == "__main__":
    main()
