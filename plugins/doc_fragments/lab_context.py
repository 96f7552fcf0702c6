# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options of the lab context read (lab_context_info, lab_info); their spec is
    CONTEXT_OPTIONS in plugins/module_utils/_context.py."""

    DOCUMENTATION = r"""
options:
  vpc_name:
    description: Value of the C(Name) tag of the VPC.
    type: str
    default: LabVPC
  subnet_names:
    description: Values of the C(Name) tags of the subnets inside that VPC; RV(subnet_ids) keeps this order.
    type: list
    elements: str
    default: [PublicSubnet1, PublicSubnet2]
  pipeline_role_name:
    description: Name of the IAM role whose ARN is RV(pipeline_role_arn); looked up, never created.
    type: str
    default: PipelineRole
  deploy_role_name:
    description:
      - Name of the IAM role whose ARN is RV(deploy_role_arn) (the CodeDeploy role of the lab's Phase 8);
        an empty RV(deploy_role_arn) when it does not exist. An empty string skips the lookup.
    type: str
    default: DeployRole
  db_instance:
    description: Identifier of the RDS instance whose endpoint address is RV(db_host); an empty string skips it.
    type: str
    default: supplierdb
  required_services:
    description:
      - Services the run needs. With an O(endpoint_url) set (the local cloud, LocalStack), each is asked first
        with one cheap read-only call, and the module fails before any other lookup, naming the services the
        endpoint lacks and the two ways on (the local cloud, or LocalStack with an auth token). Without
        O(endpoint_url) (AWS itself) nothing is asked.
    type: list
    elements: str
    default: []
    choices: [sts, ec2, iam, s3, events, logs, cloudformation, ecr, ecs, codecommit, rds, elbv2, codedeploy, codepipeline]
"""
