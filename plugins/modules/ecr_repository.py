#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_repository
short_description: Manage an Amazon ECR repository with its policy, lifecycle policy, scanning and tags
version_added: 0.1.0
description:
  - Creates, updates or deletes a private Amazon ECR repository, its repository policy, lifecycle policy,
    scan on push, tag mutability, encryption and resource tags.
  - Written because community.aws.ecs_ecr (10.0.0) does not do the job right here. It has no tags
    option at all. Its check mode fails with "could not find repository" when the repository does not
    exist yet and a policy or lifecycle policy is given, and otherwise returns C(skipped=true), which
    Ansible counts as skipped, so check mode never reports the change it would make. It has no diff.
  - Warns when the policy grants anything to C(Principal) C(*), which opens the repository to every AWS account.
  - C(changed) comes from comparing the normalised desired state (policies with
    amazon.aws's compare_policies, tags, settings) with what ECR reports.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  name:
    description: Repository name.
    type: str
    required: true
  state:
    description: Whether the repository should exist.
    type: str
    choices: [present, absent]
    default: present
  force_absent:
    description: With O(state=absent), delete the repository even when it holds images.
    type: bool
    default: false
  image_tag_mutability:
    description: Whether a tag can be pushed again to another image.
    type: str
    choices: [MUTABLE, IMMUTABLE]
    default: MUTABLE
  scan_on_push:
    description: Scan images for vulnerabilities when they are pushed.
    type: bool
    default: true
  encryption_type:
    description:
      - Encryption at rest, set at creation only; a different value on an existing repository is an error.
    type: str
    choices: [AES256, KMS]
    default: AES256
  kms_key:
    description: KMS key for O(encryption_type=KMS).
    type: str
  policy:
    description:
      - Repository policy (a dict or JSON text). Omitted or null leaves the current policy alone;
        an empty dict removes it.
    type: json
  lifecycle_policy:
    description:
      - Lifecycle policy (a dict or JSON text). Omitted or null leaves the current one alone;
        an empty dict removes it.
    type: json
  tags:
    description: Resource tags. Omitted leaves the tags alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Predicts every change, creating a repository included, and makes none.
  diff_mode:
    support: full
    description: Shows settings, policies and tags before and after.
  idempotent:
    support: full
    description: A repository in the desired state is left alone.
"""

EXAMPLES = r"""
- name: A repository only this account can use
  cloudlab.microservices.ecr_repository:
    name: customer
    scan_on_push: true
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: AccountOnly
          Effect: Allow
          Principal: {AWS: "arn:aws:iam::123456789012:root"}
          Action: "ecr:*"
    lifecycle_policy:
      rules:
        - rulePriority: 1
          description: keep 10 untagged images
          selection: {tagStatus: untagged, countType: imageCountMoreThan, countNumber: 10}
          action: {type: expire}
    tags:
      project: microservices
"""

RETURN = r"""
repository:
  description: The repository as ECR describes it (empty when absent).
  returned: always
  type: dict
  contains:
    repositoryName:
      description: Name.
      type: str
      sample: customer
    repositoryUri:
      description: URI images are pushed to.
      type: str
      sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com/customer
    repositoryArn:
      description: ARN.
      type: str
      sample: arn:aws:ecr:us-east-1:123456789012:repository/customer
policy:
  description: Repository policy after the run, or null.
  returned: when state is present
  type: dict
lifecycle_policy:
  description: Lifecycle policy after the run, or null.
  returned: when state is present
  type: dict
tags:
  description: Tags after the run.
  returned: when state is present
  type: dict
"""

import json

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

AWS_ERRORS = ()
try:
    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except NameError:
    pass


def _parse(module, name):
    value = module.params[name]
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as e:
            module.fail_json(msg="Failed to parse %s: not JSON: %s" % (name, e))
    return value


def _opens_to_everyone(policy):
    for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
        principal = statement.get("Principal")
        if statement.get("Effect") == "Allow" and (principal == "*" or (
                isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"]))):
            return True
    return False


def describe(client, name):
    try:
        return client.describe_repositories(repositoryNames=[name], aws_retry=True)["repositories"][0]
    except is_boto3_error_code("RepositoryNotFoundException"):
        return None


def read_policy(client, name):
    try:
        return json.loads(client.get_repository_policy(repositoryName=name, aws_retry=True)["policyText"])
    except is_boto3_error_code(["RepositoryPolicyNotFoundException", "RepositoryNotFoundException"]):
        return None


def read_lifecycle(client, name):
    try:
        return json.loads(client.get_lifecycle_policy(repositoryName=name, aws_retry=True)["lifecyclePolicyText"])
    except is_boto3_error_code(["LifecyclePolicyNotFoundException", "RepositoryNotFoundException"]):
        return None


def read_state(client, name):
    repo = describe(client, name)
    if repo is None:
        return None
    tags = client.list_tags_for_resource(resourceArn=repo["repositoryArn"], aws_retry=True).get("tags", [])
    return dict(
        repository=repo,
        image_tag_mutability=repo.get("imageTagMutability", "MUTABLE"),
        scan_on_push=bool(repo.get("imageScanningConfiguration", {}).get("scanOnPush")),
        encryption_type=repo.get("encryptionConfiguration", {}).get("encryptionType", "AES256"),
        policy=read_policy(client, name),
        lifecycle_policy=read_lifecycle(client, name),
        tags=boto3_tag_list_to_ansible_dict(tags),
    )


def _public(state):
    """The comparable part of a state, for diff and return."""
    if not state:
        return {}
    return dict((k, v) for k, v in state.items() if k != "repository")


def ensure_present(module, client, current):
    p = module.params
    name = p["name"]
    policy, lifecycle = _parse(module, "policy"), _parse(module, "lifecycle_policy")
    desired = dict(current and _public(current) or dict(policy=None, lifecycle_policy=None, tags={}))
    desired.update(image_tag_mutability=p["image_tag_mutability"], scan_on_push=p["scan_on_push"],
                   encryption_type=current["encryption_type"] if current else p["encryption_type"])
    actions = []
    if current is None:
        actions.append("create")
    elif current["encryption_type"] != p["encryption_type"]:
        module.fail_json(msg="Failed to update ECR repository %s: it is encrypted with %s and encryption cannot be "
                         "changed after creation; set encryption_type to %s or recreate the repository"
                         % (name, current["encryption_type"], current["encryption_type"]))
    else:
        if current["image_tag_mutability"] != p["image_tag_mutability"]:
            actions.append("mutability")
        if current["scan_on_push"] != p["scan_on_push"]:
            actions.append("scan")
    if policy is not None:
        if _opens_to_everyone(policy):
            module.warn("The policy of ECR repository %s grants ECR actions to Principal '*': any AWS account "
                        "can then pull, push and delete its images" % name)
        desired["policy"] = policy or None
        if compare_policies(current and current["policy"] or {}, policy or {}):
            actions.append("policy")
    if lifecycle is not None:
        desired["lifecycle_policy"] = lifecycle or None
        # Lifecycle rules are not IAM policies; ECR returns them as sent, so a plain comparison works.
        if (current and current["lifecycle_policy"] or {}) != (lifecycle or {}):
            actions.append("lifecycle")
    to_tag, to_untag = {}, []
    if p["tags"] is not None:
        to_tag, to_untag = compare_aws_tags(current["tags"] if current else {}, p["tags"], p["purge_tags"])
        desired["tags"] = dict(p["tags"]) if p["purge_tags"] else dict(desired["tags"], **p["tags"])
        if current is not None and (to_tag or to_untag):
            actions.append("tags")
    if not actions or module.check_mode:
        return bool(actions), current, desired

    repo = current["repository"] if current else None
    if "create" in actions:
        encryption = {"encryptionType": p["encryption_type"]}
        if p["kms_key"]:
            encryption["kmsKey"] = p["kms_key"]
        kwargs = dict(repositoryName=name, imageTagMutability=p["image_tag_mutability"],
                      imageScanningConfiguration={"scanOnPush": p["scan_on_push"]},
                      encryptionConfiguration=encryption)
        if p["tags"]:
            kwargs["tags"] = ansible_dict_to_boto3_tag_list(p["tags"])
        repo = client.create_repository(aws_retry=True, **kwargs)["repository"]
    if "mutability" in actions:
        client.put_image_tag_mutability(repositoryName=name, imageTagMutability=p["image_tag_mutability"],
                                        aws_retry=True)
    if "scan" in actions:
        client.put_image_scanning_configuration(repositoryName=name, aws_retry=True,
                                                imageScanningConfiguration={"scanOnPush": p["scan_on_push"]})
    if "policy" in actions:
        if policy:
            client.set_repository_policy(repositoryName=name, policyText=json.dumps(policy), aws_retry=True)
        elif current and current["policy"]:
            client.delete_repository_policy(repositoryName=name, aws_retry=True)
    if "lifecycle" in actions:
        if lifecycle:
            client.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(lifecycle),
                                        aws_retry=True)
        elif current and current["lifecycle_policy"]:
            client.delete_lifecycle_policy(repositoryName=name, aws_retry=True)
    if "tags" in actions:
        if to_untag:
            client.untag_resource(resourceArn=repo["repositoryArn"], tagKeys=to_untag, aws_retry=True)
        if to_tag:
            client.tag_resource(resourceArn=repo["repositoryArn"], tags=ansible_dict_to_boto3_tag_list(to_tag),
                                aws_retry=True)
    return True, read_state(client, name), desired


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        force_absent=dict(type="bool", default=False),
        image_tag_mutability=dict(type="str", choices=["MUTABLE", "IMMUTABLE"], default="MUTABLE"),
        scan_on_push=dict(type="bool", default=True),
        encryption_type=dict(type="str", choices=["AES256", "KMS"], default="AES256"),
        kms_key=dict(type="str", no_log=False),
        policy=dict(type="json"),
        lifecycle_policy=dict(type="json"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                              required_if=[["encryption_type", "KMS", ["kms_key"]]])
    # ECR answers throttled calls with ThrottlingException, which is not in
    # AWSRetry's default list of retryable codes.
    client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff(
        catch_extra_error_codes=["ThrottlingException"]))
    name = module.params["name"]
    try:
        current = read_state(client, name)
        if module.params["state"] == "absent":
            changed = current is not None
            if changed and not module.check_mode:
                client.delete_repository(repositoryName=name, force=module.params["force_absent"], aws_retry=True)
            result = dict(changed=changed, repository={})
            if module._diff:
                result["diff"] = dict(before=_public(current), after={})
            module.exit_json(**result)
        changed, after, desired = ensure_present(module, client, current)
    except is_boto3_error_code("RepositoryNotEmptyException") as e:
        module.fail_json_aws(e, msg="Failed to delete ECR repository %s: it holds images; set force_absent" % name)
    except AWS_ERRORS as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to manage ECR repository %s" % name)
    shown = _public(after) if after and not module.check_mode else desired
    result = dict(changed=changed, repository=(after or {}).get("repository", {}) if not module.check_mode or after
                  else {"repositoryName": name},
                  policy=shown.get("policy"), lifecycle_policy=shown.get("lifecycle_policy"), tags=shown.get("tags", {}))
    if module._diff:
        result["diff"] = dict(before=_public(current), after=shown)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
