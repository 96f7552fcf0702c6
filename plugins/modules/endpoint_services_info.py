#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: endpoint_services_info
short_description: Which AWS services an endpoint answers (AWS, the local cloud, LocalStack)
version_added: 1.0.0
description:
  - Makes one cheap read-only call per service (for instance C(ListClusters) for ECS) and reports which
    services answered. A service answers when the call succeeds or is refused for a reason of the caller
    (access denied, a missing resource); it is missing when the endpoint says the API is not there (HTTP 501,
    as LocalStack's community runtime answers for ECR, ECS, CodeCommit, RDS, ELBv2, CodeDeploy and
    CodePipeline), fails with a server error, or does not answer at all.
  - With O(required), fails before anything changes when one of those services is missing, with a message
    that names them and the ways on (a local cloud, LocalStack with an auth token, AWS). An endpoint that
    does not answer at all (refused, unresolved, timed out) is reported as down, with what to check, not as
    missing services.
  - No module of amazon.aws or community.aws tells which services an endpoint implements; LocalStack's
    C(/_localstack/health) does, but only on LocalStack.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  services:
    description: Services to ask. The default is every service the lab's phases use.
    type: list
    elements: str
    choices: [sts, ec2, iam, s3, events, logs, cloudformation, ecr, ecs, codecommit, rds, elbv2, codedeploy,
              codepipeline]
  required:
    description:
      - Services that must answer; the module fails, naming the missing ones, when one does not.
      - Each is asked even when not in O(services).
    type: list
    elements: str
    default: []
    choices: [sts, ec2, iam, s3, events, logs, cloudformation, ecr, ecs, codecommit, rds, elbv2, codedeploy,
              codepipeline]
extends_documentation_fragment:
  - cloudlab.microservices.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    details: Read-only; there is nothing to show a difference for.
  idempotent:
    support: full
    details: Changes nothing; always C(changed=false).
"""

EXAMPLES = r"""
- name: Refuse an endpoint without what Phase 5 uses, before any change
  cloudlab.microservices.endpoint_services_info:
    required: [sts, ec2, iam, ecr, ecs, cloudformation, codecommit, rds]

- name: Ask which services LocalStack runs
  cloudlab.microservices.endpoint_services_info:
    endpoint_url: http://127.0.0.1:4566
  register: endpoint

- name: Show them
  ansible.builtin.debug:
    var: endpoint.answered
"""

RETURN = r"""
endpoint:
  description: The endpoint asked; C(AWS) when none is set (each service's own AWS endpoint).
  returned: always
  type: str
  sample: http://127.0.0.1:4566
answered:
  description: Services that answered, sorted.
  returned: always
  type: list
  elements: str
  sample: [ec2, iam, sts]
missing:
  description: Services that did not answer, each with what the endpoint said.
  returned: always
  type: dict
  sample:
    ecr: "HTTP 501 InternalFailure: The API for service ecr is either not included in your current license plan"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint import PROBES
from ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint import check_answers
from ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint import probe


def main():
    services = sorted(PROBES)
    module = AnsibleAWSModule(
        argument_spec=dict(
            services=dict(type="list", elements="str", choices=services),
            required=dict(type="list", elements="str", default=[], choices=services),
        ),
        supports_check_mode=True,
    )
    asked = sorted(set(module.params["services"] or services) | set(module.params["required"]))
    endpoint = module.params.get("endpoint_url") or "AWS"
    missing = {}
    for service in asked:
        reason = probe(module, service)
        if reason is not None:
            missing[service] = reason
    answered = [s for s in asked if s not in missing]
    lacking = {s: missing[s] for s in module.params["required"] if s in missing}
    if lacking:
        module.fail_json(msg=check_answers(lacking, endpoint, module.region), endpoint=endpoint, answered=answered,
                         missing=missing)
    module.exit_json(changed=False, endpoint=endpoint, answered=answered, missing=missing)


if __name__ == "__main__":
    main()
