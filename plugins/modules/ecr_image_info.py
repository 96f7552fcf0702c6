#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_image_info
short_description: Which image a tag points at in Amazon ECR repositories
version_added: 1.0.0
description:
  - For each repository, C(DescribeImages) of one tag, the console's "Images" view of the lab's last
    step ("check that both repositories show the tag latest").
  - Neither amazon.aws nor community.aws has a module that describes ECR images.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  repositories:
    description: Repository names. One call reads them all.
    type: list
    elements: str
    required: true
  tag:
    description: Image tag to look up.
    type: str
    default: latest
  registry_id:
    description: Account ID of the registry; defaults to the caller's account.
    type: str
extends_documentation_fragment:
  - cloudlab.microservices.attributes
  - cloudlab.microservices.attributes.actiongroup_aws
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Changes nothing.
"""

EXAMPLES = r"""
- name: What latest points at
  cloudlab.microservices.ecr_image_info:
    repositories: [customer, employee]
  register: latest
"""

RETURN = r"""
digests:
  description: Repository name to the digest the tag points at, or null when the tag or repository is missing.
  returned: always
  type: dict
  sample: {"customer": "sha256:4fa26576cc7f4aca3d7f307591d880fae80183589f6a66bb73076ba509b22d1a", "employee": null}
images:
  description: Repository name to the image as DescribeImages gives it (snake_case), or null.
  returned: always
  type: dict
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run


def describe_tag(ecr, repository, tag, extra):
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}], **extra)["imageDetails"]
    except missing_code("ImageNotFoundException", "RepositoryNotFoundException"):
        return None
    return found[0] if found else None


def read_tags(module):
    ecr = client(module, "ecr")
    tag = module.params["tag"]
    extra = {"registryId": module.params["registry_id"]} if module.params["registry_id"] else {}
    digests, images = {}, {}
    for repository in module.params["repositories"]:
        image = aws_call("describe tag %s of ECR repository %s" % (tag, repository))(describe_tag)(
            ecr, repository, tag, extra)
        digests[repository] = image["imageDigest"] if image else None
        images[repository] = camel_dict_to_snake_dict(image) if image else None
    return dict(changed=False, digests=digests, images=images)


def main():
    module = AnsibleAWSModule(argument_spec=dict(
        repositories=dict(type="list", elements="str", required=True),
        tag=dict(type="str", default="latest"),
        registry_id=dict(type="str"),
    ), supports_check_mode=True)
    run(module, read_tags)


if __name__ == "__main__":
    main()
