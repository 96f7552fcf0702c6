#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_repository
short_description: Manage Amazon ECR repositories with their policy, lifecycle policy, scanning and tags
version_added: 1.0.0
description:
  - Creates, updates or deletes private Amazon ECR repositories, their repository policy, lifecycle policy,
    scan on push, tag mutability, encryption and resource tags.
  - One run handles every repository of O(repositories) with the same settings (one module run for all the
    services, not one per service), or the single repository O(name).
  - Written because community.aws.ecs_ecr (10.0.0) does not do the job right here. It has no tags
    option at all. Its check mode fails with "could not find repository" when the repository does not
    exist yet and a policy or lifecycle policy is given, and otherwise returns C(skipped=true), which
    Ansible counts as skipped, so check mode never reports the change it would make. It has no diff,
    and it handles one repository per run.
  - Warns when the policy grants anything to C(Principal) C(*), which opens the repository to every AWS account.
  - C(changed) comes from comparing the normalised desired state (policies with
    amazon.aws's compare_policies, tags, settings) with what ECR reports.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  name:
    description: Name of one repository. Exactly one of O(name) and O(repositories) is required.
    type: str
  repositories:
    description: Names of the repositories, all given the same settings.
    type: list
    elements: str
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
      - Repository policy (a dict or JSON text). Omitted or null leaves the current policy alone
        (unless O(policy_scope) is set); an empty dict removes it.
    type: json
  policy_scope:
    description:
      - Instead of O(policy), the policy to build.
      - V(account) grants every ECR action to the principals of this account only
        (C(arn:<partition>:iam::<account>:root)).
      - V(lab) applies the lab's policy, which grants every ECR action to any principal C(*), and warns.
    type: str
    choices: [account, lab]
  account_id:
    description: Account of the V(account) policy; read from the caller identity when omitted.
    type: str
  partition:
    description: Partition of the V(account) policy; read from the caller identity when omitted.
    type: str
  lifecycle_policy:
    description:
      - Lifecycle policy (a dict or JSON text). Omitted or null leaves the current one alone;
        an empty dict removes it.
      - A rule's C(rulePriority) and C(selection.countNumber) given as digits in a string are sent as numbers.
        ansible-core 2.18 renders a template nested in a dict, such as C({{ keep | int }}), as a string,
        which ECR refuses.
    type: json
  untagged_keep:
    description:
      - Instead of O(lifecycle_policy), the lab's lifecycle policy, built by the module, under which untagged
        images beyond the O(untagged_keep) newest expire.
    type: int
  tags:
    description: Resource tags. Omitted leaves the tags alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
  lab:
    description:
      - The lab the repositories belong to (its CodeDeploy application name). When set, each repository also
        carries the collection's ownership tags, C(cloudlab:managed-by), C(cloudlab:lab) and C(cloudlab:service)
        (the repository's name); an existing repository that lacks them gets them, other tags stay.
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
    details: Predicts every change, creating a repository included, and makes none. A repository still to be
      created has no URI yet; RV(uris) gives it an empty string rather than inventing one.
  diff_mode:
    support: full
    details: Shows settings, policies and tags before and after (per repository with O(repositories)).
  idempotent:
    support: full
    details: A repository in the desired state is left alone.
"""

EXAMPLES = r"""
- name: The lab's repositories in one run, usable by this account only
  cloudlab.microservices.ecr_repository:
    repositories: [customer, employee]
    policy_scope: account
    tags:
      Project: microservices
  register: repos

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
uris:
  description: Repository name to URI; an empty string for a repository absent, or still to be created in check mode.
  returned: always
  type: dict
  sample: {"customer": "123456789012.dkr.ecr.us-east-1.amazonaws.com/customer"}
registry:
  description: Host of the registry the repositories are in, as image references use it.
  returned: when state is present
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com
repositories:
  description: Repository name to what RV(repository), RV(policy), RV(lifecycle_policy) and RV(tags) give for one.
  returned: with O(repositories)
  type: dict
repository:
  description: The repository as ECR describes it (empty when absent).
  returned: with O(name)
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
  returned: with O(name), when state is present
  type: dict
lifecycle_policy:
  description: Lifecycle policy after the run, or null.
  returned: with O(name), when state is present
  type: dict
tags:
  description: Tags after the run.
  returned: with O(name), when state is present
  type: dict
"""

import json

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecr
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import each
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import warn


def _parse(module, name):
    value = module.params[name]
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as e:
            raise CloudlabError(message="Failed to parse %s: not JSON: %s" % (name, e))
    return value


def _number(value):
    """A digit string as the number it spells; anything else as it is."""
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def lifecycle_numbers(policy):
    """The lifecycle policy with the numbers of its rules as numbers. On ansible-core 2.18 a template nested in
    a dict renders as text ("{{ keep | int }}" gives "10"): ECR refuses a countNumber in quotes, and the
    policy would never equal the one read back."""
    if not isinstance(policy, dict) or not isinstance(policy.get("rules"), list):
        return policy
    rules = []
    for rule in policy["rules"]:
        if isinstance(rule, dict):
            rule = dict(rule)
            if "rulePriority" in rule:
                rule["rulePriority"] = _number(rule["rulePriority"])
            if isinstance(rule.get("selection"), dict) and "countNumber" in rule["selection"]:
                rule["selection"] = dict(rule["selection"], countNumber=_number(rule["selection"]["countNumber"]))
        rules.append(rule)
    return dict(policy, rules=rules)


@aws_call("read the caller identity for the account-only policy")
def caller(module):
    identity = client(module, "sts").get_caller_identity()
    return identity["Arn"].split(":")[1], identity["Account"]


def desired_policy(module):
    """The policy to apply (None: leave it alone), built here for policy_scope."""
    p = module.params
    if p["policy_scope"] == "account":
        partition, account = p["partition"], p["account_id"]
        if not partition or not account:
            found_partition, found_account = caller(module)
            partition, account = partition or found_partition, account or found_account
        return _ecr.policy_for("account", partition, account)
    if p["policy_scope"] == "lab":
        return _ecr.policy_for("lab", None, None)
    return _parse(module, "policy")


def desired_lifecycle(module):
    """The lifecycle policy to apply (None: leave it alone): O(lifecycle_policy), or the lab's of O(untagged_keep)."""
    if module.params["untagged_keep"] is not None:
        return _ecr.lab_lifecycle(module.params["untagged_keep"])
    return lifecycle_numbers(_parse(module, "lifecycle_policy"))


def apply(module, ecr, name, current, actions, policy, lifecycle, to_tag, to_untag):
    p = module.params
    repo = current["repository"] if current else None
    if "create" in actions:
        encryption = {"encryptionType": p["encryption_type"]}
        if p["kms_key"]:
            encryption["kmsKey"] = p["kms_key"]
        kwargs = dict(repositoryName=name, imageTagMutability=p["image_tag_mutability"],
                      imageScanningConfiguration={"scanOnPush": p["scan_on_push"]},
                      encryptionConfiguration=encryption)
        if to_tag:
            kwargs["tags"] = ansible_dict_to_boto3_tag_list(to_tag)
        repo = ecr.create_repository(**kwargs)["repository"]
    if "mutability" in actions:
        ecr.put_image_tag_mutability(repositoryName=name, imageTagMutability=p["image_tag_mutability"])
    if "scan" in actions:
        ecr.put_image_scanning_configuration(repositoryName=name,
                                             imageScanningConfiguration={"scanOnPush": p["scan_on_push"]})
    if "policy" in actions:
        if policy:
            ecr.set_repository_policy(repositoryName=name, policyText=json.dumps(policy))
        elif current and current["policy"]:
            ecr.delete_repository_policy(repositoryName=name)
    if "lifecycle" in actions:
        if lifecycle:
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(lifecycle))
        elif current and current["lifecycle_policy"]:
            ecr.delete_lifecycle_policy(repositoryName=name)
    if "tags" in actions:
        if to_untag:
            ecr.untag_resource(resourceArn=repo["repositoryArn"], tagKeys=to_untag)
        if to_tag:
            ecr.tag_resource(resourceArn=repo["repositoryArn"], tags=ansible_dict_to_boto3_tag_list(to_tag))
    return _ecr.read_state(ecr, name)


def ensure_present(module, ecr, name, policy, lifecycle):
    """One repository: dict(changed, repository, policy, lifecycle_policy, tags, before, after)."""
    current = aws_call("read ECR repository %s" % name)(_ecr.read_state)(ecr, name)
    actions, desired, to_tag, to_untag = _ecr.compare(module.params, name, current, policy, lifecycle)
    after = current
    if actions and not module.check_mode:
        after = aws_call("update ECR repository %s" % name)(apply)(
            module, ecr, name, current, actions, policy, lifecycle, to_tag, to_untag)
    shown = _ecr.public(after) if after and not module.check_mode else desired
    repository = (after or {}).get("repository") or {"repositoryName": name}
    return dict(changed=bool(actions), repository=repository, policy=shown.get("policy"),
                lifecycle_policy=shown.get("lifecycle_policy"), tags=shown.get("tags", {}),
                before=_ecr.public(current), after=shown)


def ensure_absent(module, ecr, name):
    current = aws_call("read ECR repository %s" % name)(_ecr.read_state)(ecr, name)
    if current is not None and not module.check_mode:
        try:
            ecr.delete_repository(repositoryName=name, force=module.params["force_absent"])
        except missing_code("RepositoryNotEmptyException") as e:
            raise CloudlabError(message="Failed to delete ECR repository %s: it holds images; set force_absent"
                                % name, exception=e)
        except missing_code("RepositoryNotFoundException"):  # pylint: disable=duplicate-except
            pass  # gone meanwhile: that is what was asked
    return dict(changed=current is not None, repository={}, before=_ecr.public(current), after={})


@aws_call("read the ECR registry address")
def token_registry(ecr):
    data = ecr.get_authorization_token()["authorizationData"]
    endpoint = data[0]["proxyEndpoint"] if data else ""
    return urlparse(endpoint if "://" in endpoint else "https://" + endpoint).netloc


def registry_of(ecr, uris):
    """The registry host: from a repository URI, else from GetAuthorizationToken (the token is dropped)."""
    for uri in uris.values():
        if uri:
            return uri.split("/", 1)[0]
    return token_registry(ecr)


def manage(module):
    p = module.params
    names = [p["name"]] if p["name"] else list(p["repositories"])
    ecr = client(module, "ecr")
    if p["state"] == "absent":
        found = dict(zip(names, each(lambda name: ensure_absent(module, ecr, name), names, str,
                                     "delete ECR repository")))
    else:
        policy = desired_policy(module)
        if policy and _ecr.opens_to_everyone(policy):
            which = ("y" if len(names) == 1 else "ies", ", ".join(names))
            warn(module, "The policy of ECR repositor%s %s grants ECR actions to Principal '*': any AWS account "
                 "can then pull, push and delete their images" % which)
        lifecycle = desired_lifecycle(module)
        found = dict(zip(names, each(lambda name: ensure_present(module, ecr, name, policy, lifecycle), names, str,
                                     "update ECR repository")))
    uris = dict((name, r["repository"].get("repositoryUri", "")) for name, r in found.items())
    result = dict(changed=any(r["changed"] for r in found.values()), uris=uris)
    if p["state"] == "present":
        result["registry"] = registry_of(ecr, uris)
    if p["name"]:
        one = found[p["name"]]
        result.update((k, v) for k, v in one.items() if k not in ("changed", "before", "after"))
        if module._diff:
            result["diff"] = dict(before=one["before"], after=one["after"])
    else:
        result["repositories"] = dict(
            (name, dict((k, v) for k, v in r.items() if k not in ("changed", "before", "after")))
            for name, r in found.items())
        if module._diff:
            result["diff"] = dict(before=dict((n, r["before"]) for n, r in found.items()),
                                  after=dict((n, r["after"]) for n, r in found.items()))
    return result


def main():
    argument_spec = dict(
        name=dict(type="str"),
        repositories=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        force_absent=dict(type="bool", default=False),
        image_tag_mutability=dict(type="str", choices=["MUTABLE", "IMMUTABLE"], default="MUTABLE"),
        scan_on_push=dict(type="bool", default=True),
        encryption_type=dict(type="str", choices=["AES256", "KMS"], default="AES256"),
        kms_key=dict(type="str", no_log=False),
        policy=dict(type="json"),
        policy_scope=dict(type="str", choices=["account", "lab"]),
        account_id=dict(type="str"),
        partition=dict(type="str"),
        lifecycle_policy=dict(type="json"),
        untagged_keep=dict(type="int"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        lab=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                              required_one_of=[["name", "repositories"]],
                              mutually_exclusive=[["name", "repositories"], ["policy", "policy_scope"],
                                                  ["lifecycle_policy", "untagged_keep"]],
                              required_if=[["encryption_type", "KMS", ["kms_key"]]])
    if module.params["repositories"] is not None:
        names = module.params["repositories"]
        dups = sorted(set(n for n in names if names.count(n) > 1))
        if not names or dups:
            module.fail_json(msg="Failed to validate repositories: it must list distinct names, got %s" % names)
    run(module, manage)


if __name__ == "__main__":
    main()
