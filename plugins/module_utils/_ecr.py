# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An ECR repository's settings as ecr_repository compares them, once: its module applies them and
lab_info's plan (_plan.ecr_repos) predicts from its read what that module would change.

- ``state_of(repo, policy, lifecycle, tags)``: the comparable state of a repository ECR described.
- ``policy_for(scope, partition, account)``, ``lab_lifecycle(untagged_keep)``: the policies the lab asks.
- ``compare(settings, name, current, policy, lifecycle)``: (actions, desired state, tags to add, tag keys to
  remove); raises CloudlabError for what ECR cannot change (encryption).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code

LAB_POLICY = {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:*"}]}

# What compare() labels each action, as a plan line says it.
ACTION_LINES = dict(mutability="set the image tag mutability of ECR repository %s",
                    scan="set scan on push of ECR repository %s",
                    policy="set the repository policy of ECR repository %s",
                    lifecycle="set the lifecycle policy of ECR repository %s")


def account_policy(partition, account):
    """Every ECR action, for the principals of this account only."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "ThisAccountOnly", "Effect": "Allow",
        "Principal": {"AWS": "arn:%s:iam::%s:root" % (partition, account)}, "Action": "ecr:*"}]}


def policy_for(scope, partition, account):
    """The policy of ``policy_scope`` (account or lab)."""
    return LAB_POLICY if scope == "lab" else account_policy(partition, account)


def lab_lifecycle(untagged_keep):
    """The lab's lifecycle policy: untagged images beyond the ``untagged_keep`` newest expire."""
    return {"rules": [{
        "rulePriority": 1,
        "description": "Expire untagged images beyond the %d newest" % int(untagged_keep),
        "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": int(untagged_keep)},
        "action": {"type": "expire"}}]}


def opens_to_everyone(policy):
    for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
        principal = statement.get("Principal")
        if statement.get("Effect") == "Allow" and (principal == "*" or (
                isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"]))):
            return True
    return False


def describe(ecr, name):
    try:
        return ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except missing_code("RepositoryNotFoundException"):
        return None


def read_policy(ecr, name):
    try:
        return json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"])
    except missing_code("RepositoryPolicyNotFoundException", "RepositoryNotFoundException"):
        return None


def read_lifecycle(ecr, name):
    try:
        return json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
    except missing_code("LifecyclePolicyNotFoundException", "RepositoryNotFoundException"):
        return None


def state_of(repo, policy, lifecycle, tags):
    """The state compare() takes, of a repository as DescribeRepositories gives it, with its policies and tags."""
    return dict(
        repository=repo,
        image_tag_mutability=repo.get("imageTagMutability", "MUTABLE"),
        scan_on_push=bool(repo.get("imageScanningConfiguration", {}).get("scanOnPush")),
        encryption_type=repo.get("encryptionConfiguration", {}).get("encryptionType", "AES256"),
        policy=policy,
        lifecycle_policy=lifecycle,
        tags=tags,
    )


def read_state(ecr, name):
    repo = describe(ecr, name)
    if repo is None:
        return None
    tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags", [])
    return state_of(repo, read_policy(ecr, name), read_lifecycle(ecr, name), boto3_tag_list_to_ansible_dict(tags))


def public(state):
    """The comparable part of a state, for diff and return."""
    if not state:
        return {}
    return dict((k, v) for k, v in state.items() if k != "repository")


def compare(settings, name, current, policy, lifecycle):
    """(actions, desired state, tags to add, tag keys to remove) of one repository; ``settings`` holds
    image_tag_mutability, scan_on_push, encryption_type, tags, purge_tags and lab (ecr_repository's options)."""
    p = settings
    desired = dict(current and public(current) or dict(policy=None, lifecycle_policy=None, tags={}))
    desired.update(image_tag_mutability=p["image_tag_mutability"], scan_on_push=p["scan_on_push"],
                   encryption_type=current["encryption_type"] if current else p["encryption_type"])
    actions = []
    if current is None:
        actions.append("create")
    elif current["encryption_type"] != p["encryption_type"]:
        raise CloudlabError(message="Failed to update ECR repository %s: it is encrypted with %s and encryption "
                            "cannot be changed after creation; set encryption_type to %s or recreate the repository"
                            % (name, current["encryption_type"], current["encryption_type"]))
    else:
        if current["image_tag_mutability"] != p["image_tag_mutability"]:
            actions.append("mutability")
        if current["scan_on_push"] != p["scan_on_push"]:
            actions.append("scan")
    if policy is not None:
        desired["policy"] = policy or None
        if compare_policies(current and current["policy"] or {}, policy or {}):
            actions.append("policy")
    if lifecycle is not None:
        desired["lifecycle_policy"] = lifecycle or None
        # Lifecycle rules are not IAM policies; ECR returns them as sent, so a plain comparison works.
        if (current and current["lifecycle_policy"] or {}) != (lifecycle or {}):
            actions.append("lifecycle")
    to_tag, to_untag = {}, []
    tags, purge = p["tags"], p["purge_tags"]
    if p["lab"]:
        # The ownership tags are added to what the user asks; without O(tags) no other tag is touched.
        purge = purge and tags is not None
        tags = _lab.with_owner_tags(tags, p["lab"], name)
    if tags is not None:
        to_tag, to_untag = compare_aws_tags(current["tags"] if current else {}, tags, purge)
        desired["tags"] = dict(tags) if purge else dict(desired["tags"], **tags)
        if current is not None and (to_tag or to_untag):
            actions.append("tags")
    return actions, desired, to_tag, to_untag
