#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: codedeploy_application
short_description: Manage a CodeDeploy application and its tags
version_added: 1.0.0
description:
  - Creates or deletes a CodeDeploy application of a compute platform (ECS, Server or Lambda) and keeps its
    resource tags.
  - Written because neither amazon.aws nor community.aws has a CodeDeploy module (community.aws issue
    887 has asked for one since 2021; its pull request 1950, still open, covers applications and
    deployments but not deployment groups).
  - CodeDeploy cannot change an application's compute platform; a different O(compute_platform) for an
    existing application is an error that names it, nothing is deleted behind the user's back.
  - Deleting an application deletes its deployment groups (CodeDeploy does so).
  - A deployment in progress in one of its groups uses the ECS service, target groups and listeners it
    deploys to. O(state=absent) refuses to delete the application under it, naming each deployment and its
    status, unless O(stop_deployments) is set; then each is stopped with a rollback and awaited before the
    delete. An option here, not a module of its own, because the deletion is what needs the deployments
    ended, and the module already reads the application the deployments belong to.
  - C(changed) comes from comparing existence and tags with what CodeDeploy returns.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  name:
    description: Application name (1 to 100 characters).
    type: str
    required: true
  compute_platform:
    description: Compute platform of the deployments.
    type: str
    choices: [ECS, Server, Lambda]
    default: ECS
  state:
    description: Whether the application should exist.
    type: str
    choices: [present, absent]
    default: present
  tags:
    description: Resource tags. Omitted leaves the tags alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: true
  stop_deployments:
    description:
      - With O(state=absent), stop the deployments in progress of the application's groups, with a
        rollback (traffic goes back to the original task set), and wait until they have ended, then delete.
      - When false, deployments in progress make the module fail, naming them, before anything changes.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the stopped deployments to end (O(stop_deployments)).
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - cloudlab.microservices.attributes
  - cloudlab.microservices.attributes.actiongroup_aws
attributes:
  check_mode:
    support: full
    details: Predicts creation, deletion and tag changes, and makes none.
  diff_mode:
    support: full
    details: Shows compute platform and tags before and after.
  idempotent:
    support: full
    details: An application in the desired state is left alone.
"""

EXAMPLES = r"""
- name: The lab's application
  cloudlab.microservices.codedeploy_application:
    name: microservices
    compute_platform: ECS
    tags:
      project: microservices
"""

RETURN = r"""
application:
  description: The application after the run (predicted in check mode; empty when absent).
  returned: always
  type: dict
  contains:
    applicationName:
      description: Name.
      type: str
      sample: microservices
    applicationId:
      description: Id (absent when only predicted).
      type: str
      sample: 9d0f1a9e-8a4c-4c8e-9b55-7b8f5c1d2e3f
    computePlatform:
      description: Compute platform.
      type: str
      sample: ECS
    arn:
      description: ARN.
      type: str
      sample: arn:aws:codedeploy:us-east-1:123456789012:application:microservices
tags:
  description: Tags after the run (empty when O(tags) is omitted, since they are then neither managed nor read).
  returned: when state is present
  type: dict
stopped_deployments:
  description: The deployments stopped before the delete (predicted in check mode), with their group and status.
  returned: when state is absent
  type: list
  elements: dict
  sample: [{"id": "d-1A2B3C4D5", "deployment_group": "microservices-customer", "status": "InProgress"}]
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import application_arn
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import IN_PROGRESS


@aws_call("read the CodeDeploy application")
def read_application(codedeploy, name):
    try:
        return codedeploy.get_application(applicationName=name)["application"]
    except missing_code("ApplicationDoesNotExistException"):
        return None


@aws_call("read the deployments in progress of the CodeDeploy application")
def deployments_in_progress(codedeploy, name):
    """[{id, deployment_group, status}] of the application's deployments that have not ended."""
    groups = []
    for page in codedeploy.get_paginator("list_deployment_groups").paginate(applicationName=name):
        groups.extend(page.get("deploymentGroups") or [])
    out = []
    for group in sorted(groups):
        ids = []
        for page in codedeploy.get_paginator("list_deployments").paginate(
                applicationName=name, deploymentGroupName=group, includeOnlyStatuses=IN_PROGRESS):
            ids.extend(page.get("deployments") or [])
        for deployment_id in ids:
            info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            out.append(dict(id=deployment_id, deployment_group=group, status=info.get("status", "")))
    return out


def stop_all(module, codedeploy, name, running):
    """Stop each deployment with a rollback, then wait (polled) until every one has ended."""
    def stop(deployment_id):
        try:
            codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        except missing_code("DeploymentAlreadyCompletedException"):
            pass  # it ended meanwhile

    for d in running:
        aws_call("stop deployment %s of deployment group %s" % (d["id"], d["deployment_group"]))(stop)(d["id"])
    deadline = time.time() + module.params["wait_timeout"]
    waiting = [d["id"] for d in running]
    while waiting:
        waiting = [i for i in waiting if aws_call("read deployment %s" % i)(codedeploy.get_deployment)(
            deploymentId=i)["deploymentInfo"].get("status") in IN_PROGRESS]
        if waiting and time.time() > deadline:
            raise CloudlabError(message="Failed to delete CodeDeploy application %s: deployments %s were told to stop "
                                        "but had not ended after %ss (wait_timeout); run again once they have"
                                % (name, ", ".join(waiting), module.params["wait_timeout"]))
        if waiting:
            time.sleep(2)


def arn_of(module, name):
    identity = aws_call("read the caller identity")(aws_client(module, "sts").get_caller_identity)()
    return application_arn(identity["Arn"].split(":")[1], module.region, identity["Account"], name)


def ensure(module):
    p = module.params
    name = p["name"]
    if not 1 <= len(name) <= 100:
        raise CloudlabError(message="Failed to validate name %r: 1 to 100 characters" % name)
    codedeploy = aws_client(module, "codedeploy")
    current = read_application(codedeploy, name)
    if p["state"] == "absent":
        running = deployments_in_progress(codedeploy, name) if current is not None else []
        if running and not p["stop_deployments"]:
            raise CloudlabError(message="Refused to delete CodeDeploy application %s: %s in progress (%s); they use "
                                        "the ECS services and target groups they deploy to. Let them end and run "
                                        "again, or set stop_deployments to stop them with a rollback first "
                                        "(playbooks/destroy.yml: -e destroy_stop_deployments=true)"
                                % (name, "deployment" if len(running) == 1 else "deployments", ", ".join(
                                    "%s of deployment group %s, %s" % (d["id"], d["deployment_group"], d["status"])
                                    for d in running)))
        if current is not None and not module.check_mode:
            stop_all(module, codedeploy, name, running)
            aws_call("delete CodeDeploy application %s" % name)(codedeploy.delete_application)(
                applicationName=name)
        result = dict(changed=current is not None, application={}, stopped_deployments=running)
        if module._diff:
            result["diff"] = dict(before={"computePlatform": current["computePlatform"]} if current else {}, after={})
        return result

    if current is not None and current.get("computePlatform") != p["compute_platform"]:
        raise CloudlabError(message="Failed to update CodeDeploy application %s: its compute platform is %s and "
                                    "CodeDeploy cannot change it; set compute_platform to %s or delete the application"
                            % (name, current.get("computePlatform"), current.get("computePlatform")))
    arn = arn_of(module, name)
    tags_before = {}
    if current is not None and p["tags"] is not None:
        tags_before = boto3_tag_list_to_ansible_dict(aws_call("read the application's tags")(
            codedeploy.list_tags_for_resource)(ResourceArn=arn).get("Tags") or [])
    to_tag, to_untag = ({}, []) if p["tags"] is None else compare_aws_tags(tags_before, p["tags"], p["purge_tags"])
    tags_after = dict((k, v) for k, v in tags_before.items() if k not in to_untag)
    tags_after.update(to_tag)
    changed = current is None or bool(to_tag or to_untag)
    app = dict(current or {"applicationName": name, "computePlatform": p["compute_platform"]})
    if changed and not module.check_mode:
        if current is None:
            kwargs = dict(applicationName=name, computePlatform=p["compute_platform"])
            if p["tags"]:
                kwargs["tags"] = ansible_dict_to_boto3_tag_list(p["tags"])
            app["applicationId"] = aws_call("create CodeDeploy application %s" % name)(
                codedeploy.create_application)(**kwargs)["applicationId"]
        else:
            if to_untag:
                aws_call("untag CodeDeploy application %s" % name)(codedeploy.untag_resource)(
                    ResourceArn=arn, TagKeys=to_untag)
            if to_tag:
                aws_call("tag CodeDeploy application %s" % name)(codedeploy.tag_resource)(
                    ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(to_tag))
    app.pop("createTime", None)
    app.pop("linkedToGitHub", None)
    app["arn"] = arn
    result = dict(changed=changed, application=app, tags=tags_after)
    if module._diff:
        result["diff"] = dict(before={"computePlatform": current["computePlatform"], "tags": tags_before} if current else {},
                              after={"computePlatform": p["compute_platform"], "tags": tags_after})
    return result


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        compute_platform=dict(type="str", choices=["ECS", "Server", "Lambda"], default="ECS"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        stop_deployments=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=900),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, ensure)


if __name__ == "__main__":
    main()
