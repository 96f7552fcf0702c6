#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_login
short_description: Get Amazon ECR registry credentials (aws ecr get-login-password)
version_added: 1.0.0
description:
  - Calls C(GetAuthorizationToken) and returns what C(docker login) needs for the account's ECR
    registry, the step C(aws ecr get-login-password | docker login --username AWS --password-stdin) of the lab.
  - Neither amazon.aws nor community.aws has such a module.
  - The password is a secret valid for 12 hours. Run this module with O(ignore:no_log=true) on the task
    (and on the task that uses the password) so that it appears in no output, not even at C(-vvv).
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
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
    details: Changes nothing; always C(changed=false).
"""

EXAMPLES = r"""
- name: Get the registry credentials
  cloudlab.microservices.ecr_login:
  register: ecr
  no_log: true

- name: Log Docker in to ECR
  community.docker.docker_login:
    registry_url: "{{ ecr.registry }}"
    username: "{{ ecr.username }}"
    password: "{{ ecr.password }}"
  no_log: true
"""

RETURN = r"""
registry:
  description: Registry host (and port), as Docker image references use it.
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com
proxy_endpoint:
  description: Registry URL that C(docker login) can be given.
  returned: always
  type: str
  sample: https://123456789012.dkr.ecr.us-east-1.amazonaws.com
username:
  description: User name for the registry; C(AWS) on Amazon ECR.
  returned: always
  type: str
  sample: AWS
password:
  description:
    - Registry password (secret). Register the result with O(ignore:no_log=true) on the task.
  returned: always
  type: str
expires_at:
  description: When the password expires, ISO 8601.
  returned: always
  type: str
  sample: "2025-01-01T12:00:00+00:00"
"""

import base64

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run


def registry_host(proxy_endpoint):
    """`https://host[:port]` -> `host[:port]`, the form image references use."""
    parsed = urlparse(proxy_endpoint if "://" in proxy_endpoint else "https://" + proxy_endpoint)
    return parsed.netloc


@aws_call("get an ECR authorization token (check the credentials in cloudlab_aws_connection and registry_id)")
def authorization(ecr, registry_id):
    extra = {"registryIds": [registry_id]} if registry_id else {}
    return ecr.get_authorization_token(**extra)["authorizationData"]


def get_login(module):
    data = authorization(client(module, "ecr"), module.params["registry_id"])
    if not data:
        raise CloudlabError(message="Failed to get an ECR authorization token: the answer held none")
    try:
        username, _sep, password = base64.b64decode(data[0]["authorizationToken"]).decode("utf-8").partition(":")
    except (ValueError, TypeError, UnicodeDecodeError):
        raise CloudlabError(message="Failed to decode the ECR authorization token: it is not base64 of user:password")
    expires = data[0].get("expiresAt")
    return dict(
        changed=False,
        registry=registry_host(data[0]["proxyEndpoint"]),
        proxy_endpoint=data[0]["proxyEndpoint"],
        username=username,
        password=password,
        expires_at=expires.isoformat() if hasattr(expires, "isoformat") else str(expires),
    )


def main():
    module = AnsibleAWSModule(argument_spec=dict(registry_id=dict(type="str")), supports_check_mode=True)
    run(module, get_login)


if __name__ == "__main__":
    main()
