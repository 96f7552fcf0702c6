#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lab_context_info
short_description: What the AWS Academy lab account already holds, read in one run
version_added: 1.0.0
description:
  - Reads, and changes nothing, what Phase 5 of the lab builds on; the account and partition
    (C(GetCallerIdentity)), the region, the VPC and its public subnets by C(Name) tag, the ARNs of the IAM
    roles C(PipelineRole) and C(DeployRole), the endpoint of the RDS instance C(supplierdb) and the host of
    the account's ECR registry.
  - Where the credentials may not read IAM (some lab roles, and Cloud9's managed temporary credentials
    answer C(AccessDenied) to C(GetRole)), a role's ARN is built from the account as the lab writes it,
    C(arn:<partition>:iam::<account>:role/<name>), with a warning, instead of failing.
  - Fails, naming what is missing and the variable of the C(aws_context) role to set, when the VPC, a
    subnet or C(PipelineRole) is missing, or when a Name tag is shared by several VPCs or subnets. A missing
    RDS instance gives O(db_instance) an empty endpoint; a missing C(DeployRole) an empty ARN.
  - Written because amazon.aws has one module per lookup (five module runs where one does), and
    amazon.aws.iam_role_info warns about deprecated return values on every run and fails where the
    credentials may not read IAM.
author:
  - cloudlab.microservices maintainers (@cloudlab)
extends_documentation_fragment:
  - cloudlab.microservices.lab_context
  - cloudlab.microservices.attributes
  - cloudlab.microservices.attributes.actiongroup_aws
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode, so that later roles predict from real ids.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Changes nothing.
"""

EXAMPLES = r"""
- name: Find the lab's account, network, roles, database and registry
  cloudlab.microservices.lab_context_info:
  register: lab

- name: Another VPC, no database
  cloudlab.microservices.lab_context_info:
    vpc_name: MyVPC
    subnet_names: [Public-A, Public-B]
    db_instance: ""
"""

RETURN = r"""
account_id:
  description: Account of the credentials.
  returned: always
  type: str
  sample: "123456789012"
partition:
  description: Partition of the account.
  returned: always
  type: str
  sample: aws
region:
  description: Region the lookups were made in.
  returned: always
  type: str
  sample: us-east-1
vpc_id:
  description: Id of the VPC.
  returned: always
  type: str
  sample: vpc-0123456789abcdef0
subnet_ids:
  description: Ids of the subnets, in the order of O(subnet_names).
  returned: always
  type: list
  elements: str
  sample: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
pipeline_role_arn:
  description: ARN of O(pipeline_role_name).
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/PipelineRole
deploy_role_arn:
  description: ARN of O(deploy_role_name), or an empty string when it does not exist.
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/DeployRole
db_host:
  description: Endpoint address of O(db_instance); empty when it is missing or has no endpoint yet.
  returned: always
  type: str
  sample: supplierdb.abcdefghij.us-east-1.rds.amazonaws.com
registry:
  description: Host (and port) of the account's ECR registry, as image references use it.
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com
iam_readable:
  description: Whether the credentials could read IAM; when false the role ARNs were built from the account.
  returned: always
  type: bool
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._context import CONTEXT_OPTIONS
from ansible_collections.cloudlab.microservices.plugins.module_utils._context import lab_context


def main():
    module = AnsibleAWSModule(argument_spec=dict(CONTEXT_OPTIONS), supports_check_mode=True)
    run(module, lab_context)


if __name__ == "__main__":
    main()
