#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: codedeploy_deployment_group
short_description: Manage the ECS blue/green deployment groups of a CodeDeploy application, several in one run
version_added: 1.0.0
description:
  - Creates, updates in place or deletes CodeDeploy deployment groups of the ECS compute platform with
    blue/green traffic control; one run handles every group of O(deployment_groups).
  - Written because neither amazon.aws nor community.aws has a CodeDeploy module (community.aws issue
    887 has asked for one since 2021; its pull request 1950 covers applications and deployments, not
    deployment groups).
  - Before any change, every group is checked without an AWS call (names, deployment configuration,
    waits, target group pair) and then against the account when O(validate_references=true) -
    the ECS service exists in the cluster and uses the C(CODE_DEPLOY) deployment controller, both
    target groups exist, and both listeners belong to the load balancer the target groups are behind.
    One bad group stops the run before the first group changes.
  - C(changed) comes from comparing the normalised declaration (service role, deployment
    configuration, deployment style, reroute and termination settings, target group pair and listeners,
    ECS service, auto-rollback events) and the tags with what CodeDeploy returns.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  application:
    description: Name of the CodeDeploy application (compute platform ECS) the groups belong to.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates every group of O(deployment_groups); V(absent) deletes them
        (only their C(name) is needed then).
    type: str
    choices: [present, absent]
    default: present
  deployment_groups:
    description: The deployment groups.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Deployment group name.
        type: str
        required: true
      service_role_arn:
        description: ARN of the IAM role CodeDeploy acts as (the lab's C(DeployRole)).
        type: str
      cluster:
        description: Name of the ECS cluster of the service.
        type: str
      service:
        description: Name of the ECS service, created with the C(CODE_DEPLOY) deployment controller.
        type: str
      target_groups:
        description:
          - The pair of target group names; the first is the one the production listener sends traffic to
            before the first deployment (the lab's C(<svc>-tg-two)).
        type: list
        elements: str
      production_listener_arn:
        description: ARN of the listener of production traffic (the lab's HTTP:80).
        type: str
      test_listener_arn:
        description: ARN of the listener of test traffic (the lab's HTTP:8080).
        type: str
      deployment_config:
        description: Deployment configuration (an ECS one).
        type: str
        default: CodeDeployDefault.ECSAllAtOnce
      reroute_wait_minutes:
        description:
          - 0 reroutes production traffic as soon as the replacement task set is ready; more waits that
            many minutes for someone to continue the deployment, then stops it.
        type: int
        default: 0
      termination_wait_minutes:
        description: Minutes the original task set keeps running after traffic moved (0 to 2880).
        type: int
        default: 5
      auto_rollback_events:
        description: Events that roll a deployment back; an empty list turns automatic rollback off.
        type: list
        elements: str
        choices: [DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST]
        default: [DEPLOYMENT_FAILURE]
      tags:
        description: Resource tags of the group. Omitted leaves tags alone.
        type: dict
  create_application:
    description:
      - Create the application (compute platform ECS) when it does not exist, after every check passed, so
        that a refused input leaves the account untouched. False fails when it does not exist.
    type: bool
    default: false
  application_tags:
    description: Tags of the application when O(create_application=true). Omitted leaves them alone.
    type: dict
  purge_tags:
    description: Remove tags not listed in a group's C(tags) (and in O(application_tags)).
    type: bool
    default: true
  validate_references:
    description:
      - Check the ECS services, target groups and listeners in the account before any change.
      - In check mode a reference that does not exist yet is a warning (an earlier task of the same run may
        create it), otherwise an error.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - cloudlab.microservices.attributes
  - cloudlab.microservices.attributes.actiongroup_aws
attributes:
  check_mode:
    support: full
    details: Predicts creations, updates and deletions, tags included, and makes none.
  diff_mode:
    support: full
    details: Shows each group's normalised declaration and tags before and after.
  idempotent:
    support: full
    details: Groups in the desired state are left alone.
"""

EXAMPLES = r"""
- name: One blue/green deployment group per service
  cloudlab.microservices.codedeploy_deployment_group:
    application: microservices
    deployment_groups:
      - name: microservices-customer
        service_role_arn: arn:aws:iam::123456789012:role/DeployRole
        cluster: microservices-serverlesscluster
        service: customer-microservice
        target_groups: [customer-tg-two, customer-tg-one]
        production_listener_arn: "{{ load_balancer_listener_arns.production }}"
        test_listener_arn: "{{ load_balancer_listener_arns.test }}"
        termination_wait_minutes: 5
"""

RETURN = r"""
deployment_groups:
  description: Each group after the run (predicted in check mode), by name.
  returned: always
  type: dict
  sample:
    microservices-customer:
      deploymentGroupName: microservices-customer
      deploymentGroupId: 0b8c6f2e-1d55-4a55-9f5c-1f4c7b8c9d00
      deploymentConfigName: CodeDeployDefault.ECSAllAtOnce
      tags: {}
changes:
  description:
    - What changed (or would), by group name - created, deleted, or the fields updated; under the application's
      name, C(application created) or C(application tags) with O(create_application=true).
  returned: always
  type: dict
  sample: {microservices-customer: [blueGreenDeploymentConfiguration]}
"""

try:
    import botocore  # noqa: F401  pylint: disable=unused-import
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import warn
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import application_arn
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import desired_group
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import differences
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import group_arn
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import group_problems
from ansible_collections.cloudlab.microservices.plugins.module_utils._codedeploy import normalise_group

PRESENT_KEYS = ("service_role_arn", "cluster", "service", "target_groups", "production_listener_arn",
                "test_listener_arn")


@aws_call("read CodeDeploy application")
def application_exists(codedeploy, name):
    try:
        codedeploy.get_application(applicationName=name)
        return True
    except missing_code("ApplicationDoesNotExistException"):
        return False


@aws_call("read the deployment groups")
def read_groups(codedeploy, application, names):
    """{name: AWS info} of the groups among ``names`` that exist."""
    found = {}
    for start in range(0, len(names), 100):
        answer = codedeploy.batch_get_deployment_groups(applicationName=application,
                                                        deploymentGroupNames=names[start:start + 100])
        for info in answer.get("deploymentGroupsInfo") or []:
            if info.get("deploymentGroupName"):
                found[info["deploymentGroupName"]] = info
    return found


@aws_call("read the tags of a deployment group")
def read_tags(codedeploy, arn):
    return boto3_tag_list_to_ansible_dict(codedeploy.list_tags_for_resource(ResourceArn=arn)
                                          .get("Tags") or [])


@aws_call("read the ECS services")
def read_services(ecs, cluster, names):
    """{name: service} of the ACTIVE services of ``cluster`` among ``names``."""
    found = {}
    for start in range(0, len(names), 10):
        try:
            answer = ecs.describe_services(cluster=cluster, services=names[start:start + 10])
        except missing_code("ClusterNotFoundException"):
            return {}
        for service in answer.get("services") or []:
            if service.get("status") == "ACTIVE":
                found[service["serviceName"]] = service
    return found


@aws_call("read the target groups")
def read_target_groups(elbv2, names):
    """{name: target group} of the target groups that exist."""
    try:
        return dict((tg["TargetGroupName"], tg) for tg in
                    elbv2.describe_target_groups(Names=names)["TargetGroups"])
    except missing_code("TargetGroupNotFound"):
        pass
    found = {}
    for name in names:  # one at a time to learn which is missing
        try:
            for tg in elbv2.describe_target_groups(Names=[name])["TargetGroups"]:
                found[tg["TargetGroupName"]] = tg
        except missing_code("TargetGroupNotFound"):
            continue
    return found


@aws_call("read the listeners")
def read_listeners(elbv2, arns):
    """{arn: listener} of the listeners that exist."""
    try:
        return dict((ls["ListenerArn"], ls) for ls in
                    elbv2.describe_listeners(ListenerArns=arns)["Listeners"])
    except missing_code("ListenerNotFound"):
        pass
    found = {}
    for arn in arns:
        try:
            for ls in elbv2.describe_listeners(ListenerArns=[arn])["Listeners"]:
                found[ls["ListenerArn"]] = ls
        except missing_code("ListenerNotFound"):
            continue
    return found


def reference_problems(module, groups):
    """Problems of the ECS services, target groups and listeners the groups name, read from the account."""
    ecs, elbv2 = aws_client(module, "ecs"), aws_client(module, "elbv2")
    problems = []
    services = {}
    for cluster in sorted(set(g["cluster"] for g in groups)):
        names = sorted(set(g["service"] for g in groups if g["cluster"] == cluster))
        services[cluster] = read_services(ecs, cluster, names)
    target_groups = read_target_groups(elbv2, sorted(set(n for g in groups for n in g["target_groups"])))
    listener_arns = set(g["production_listener_arn"] for g in groups) | set(g["test_listener_arn"] for g in groups)
    listeners = read_listeners(elbv2, sorted(listener_arns))
    for g in groups:
        where = "deployment_groups[%s]" % g["name"]
        service = services[g["cluster"]].get(g["service"])
        if service is None:
            problems.append("%s.service: ECS service %r does not exist in cluster %r (create it first, with the "
                            "CODE_DEPLOY deployment controller)" % (where, g["service"], g["cluster"]))
        elif (service.get("deploymentController") or {}).get("type", "ECS") != "CODE_DEPLOY":
            problems.append("%s.service: ECS service %r uses the %s deployment controller; blue/green through "
                            "CodeDeploy needs a service created with CODE_DEPLOY"
                            % (where, g["service"], (service.get("deploymentController") or {}).get("type", "ECS")))
        balancers = set()
        for name in g["target_groups"]:
            if name not in target_groups:
                problems.append("%s.target_groups: target group %r does not exist" % (where, name))
            else:
                balancers.update(target_groups[name].get("LoadBalancerArns") or [])
        if not balancers and all(n in target_groups for n in g["target_groups"]):
            problems.append("%s.target_groups: %s are behind no load balancer listener"
                            % (where, " and ".join(g["target_groups"])))
        for key in ("production_listener_arn", "test_listener_arn"):
            listener = listeners.get(g[key])
            if listener is None:
                problems.append("%s.%s: listener %s does not exist" % (where, key, g[key]))
            elif balancers and listener.get("LoadBalancerArn") not in balancers:
                problems.append("%s.%s: listener %s belongs to load balancer %s, not to the one target groups %s "
                                "are behind (%s)" % (where, key, g[key], listener.get("LoadBalancerArn"),
                                                     " and ".join(g["target_groups"]), ", ".join(sorted(balancers))))
    return problems


def check_inputs(module, groups):
    problems = []
    for index, group in enumerate(groups):
        missing = [k for k in PRESENT_KEYS if not group.get(k)]
        if missing:
            problems.append("deployment_groups[%s]: %s required with state=present"
                            % (group.get("name") or index, ", ".join(missing)))
        else:
            problems.extend(group_problems(group, index))
    names = [g["name"] for g in groups]
    dups = sorted(set(n for n in names if names.count(n) > 1))
    if dups:
        problems.append("deployment_groups: %s listed more than once" % ", ".join(dups))
    services = [(g.get("cluster"), g.get("service")) for g in groups]
    shared = sorted(set("%s/%s" % s for s in services if services.count(s) > 1))
    if shared:
        problems.append("deployment_groups: ECS service %s is in more than one group (CodeDeploy allows one)"
                        % ", ".join(shared))
    if problems:
        raise CloudlabError(message="Failed to validate deployment_groups: %s" % "; ".join(problems))


class Context:
    """Account, partition and region, read once and only when tags need an ARN."""

    def __init__(self, module):
        self.module = module
        self._identity = None

    def _read(self):
        if self._identity is None:
            self._identity = aws_call("read the caller identity")(aws_client(self.module, "sts").get_caller_identity)()
        return self._identity["Arn"].split(":")[1], self.module.region, self._identity["Account"]

    def arn(self, application, name):
        return group_arn(*(self._read() + (application, name)))

    def app_arn(self, application):
        return application_arn(*(self._read() + (application,)))


@aws_call("change the deployment groups")
def apply_present(module, codedeploy, application, groups, current, ctx):
    changes, after, diff_before, diff_after = {}, {}, {}, {}
    purge = module.params["purge_tags"]
    for g in groups:
        name = g["name"]
        desired = desired_group(g)
        info = current.get(name)
        before = normalise_group(info)
        fields = differences(before, desired)
        tags_before, to_tag, to_untag = {}, {}, []
        if g.get("tags") is not None:
            if info is not None:
                tags_before = read_tags(codedeploy, ctx.arn(application, name))
            to_tag, to_untag = compare_aws_tags(tags_before, g["tags"], purge)
        tags_after = dict(tags_before)
        tags_after.update(to_tag)
        for key in to_untag:
            tags_after.pop(key, None)
        change = []
        if info is None:
            change = ["created"]
        else:
            change = fields + (["tags"] if (to_tag or to_untag) else [])
        if change:
            changes[name] = change
        if not module.check_mode and info is None:
            kwargs = dict(desired, applicationName=application, deploymentGroupName=name)
            if g.get("tags"):
                kwargs["tags"] = ansible_dict_to_boto3_tag_list(g["tags"])
            codedeploy.create_deployment_group(**kwargs)
        elif not module.check_mode and fields:
            codedeploy.update_deployment_group(applicationName=application, currentDeploymentGroupName=name, **desired)
        if not module.check_mode and info is not None:
            arn = ctx.arn(application, name) if (to_tag or to_untag) else None
            if to_untag:
                codedeploy.untag_resource(ResourceArn=arn, TagKeys=to_untag)
            if to_tag:
                codedeploy.tag_resource(ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(to_tag))
        shown = dict(normalise_group(desired), deploymentGroupName=name, tags=tags_after)
        if info is not None:
            shown["deploymentGroupId"] = info.get("deploymentGroupId")
        after[name] = shown
        diff_before[name] = dict(before, tags=tags_before) if before else {}
        diff_after[name] = dict((k, v) for k, v in shown.items() if k not in ("deploymentGroupName", "deploymentGroupId"))
    if changes and not module.check_mode:
        for name, info in read_groups(codedeploy, application, sorted(changes)).items():
            after[name]["deploymentGroupId"] = info.get("deploymentGroupId")
    return changes, after, diff_before, diff_after


def ensure(module):
    p = module.params
    application, groups = p["application"], p["deployment_groups"]
    codedeploy = aws_client(module, "codedeploy")
    names = [g["name"] for g in groups]
    if p["state"] == "present":
        check_inputs(module, groups)
    app_exists = application_exists(codedeploy, application)
    if not app_exists and p["state"] == "absent":
        return dict(changed=False, deployment_groups={}, changes={})
    if not app_exists and not (module.check_mode or p["create_application"]):
        raise CloudlabError(message="Failed to find CodeDeploy application %r (application): create it first "
                                    "(cloudlab.microservices.codedeploy_application) or set create_application"
                                    % application)
    current = read_groups(codedeploy, application, names) if app_exists else {}

    if p["state"] == "absent":
        gone = [n for n in names if n in current]
        if not module.check_mode:
            for name in gone:
                aws_call("delete deployment group %s" % name)(codedeploy.delete_deployment_group)(
                    applicationName=application, deploymentGroupName=name)
        result = dict(changed=bool(gone), deployment_groups={}, changes=dict((n, ["deleted"]) for n in gone))
        if module._diff:
            result["diff"] = dict(before=dict((n, normalise_group(current[n])) for n in gone), after={})
        return result

    if not app_exists and not p["create_application"]:
        warn(module, "CodeDeploy application %s does not exist yet: every group would be created with it" % application)
    if p["validate_references"]:
        problems = reference_problems(module, groups)
        if problems and module.check_mode:
            for problem in problems:
                warn(module, "Would fail unless an earlier task creates it: %s" % problem)
        elif problems:
            raise CloudlabError(message="Failed to validate deployment_groups against the account, nothing changed: %s"
                                        % "; ".join(problems))
    ctx = Context(module)
    app_change = ensure_application(module, codedeploy, application, app_exists, ctx)
    changes, after, before_diff, after_diff = apply_present(module, codedeploy, application, groups, current, ctx)
    if app_change:
        changes[application] = app_change
    result = dict(changed=bool(changes), deployment_groups=after, changes=changes)
    if module._diff:
        result["diff"] = dict(before=before_diff, after=after_diff)
    return result


@aws_call("create or tag the CodeDeploy application")
def ensure_application(module, codedeploy, application, exists, ctx):
    """Create the application or keep its tags, when asked; returns what changed (list, empty: nothing)."""
    p = module.params
    if not p["create_application"]:
        return []
    wanted = p["application_tags"]
    if not exists:
        if not module.check_mode:
            kwargs = dict(applicationName=application, computePlatform="ECS")
            if wanted:
                kwargs["tags"] = ansible_dict_to_boto3_tag_list(wanted)
            codedeploy.create_application(**kwargs)
        return ["application created"]
    if wanted is None:
        return []
    arn = ctx.app_arn(application)
    to_tag, to_untag = compare_aws_tags(read_tags(codedeploy, arn), wanted, p["purge_tags"])
    if not (to_tag or to_untag):
        return []
    if not module.check_mode and to_untag:
        codedeploy.untag_resource(ResourceArn=arn, TagKeys=to_untag)
    if not module.check_mode and to_tag:
        codedeploy.tag_resource(ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(to_tag))
    return ["application tags"]


def main():
    group_spec = dict(
        name=dict(type="str", required=True),
        service_role_arn=dict(type="str"),
        cluster=dict(type="str"),
        service=dict(type="str"),
        target_groups=dict(type="list", elements="str"),
        production_listener_arn=dict(type="str"),
        test_listener_arn=dict(type="str"),
        deployment_config=dict(type="str", default="CodeDeployDefault.ECSAllAtOnce"),
        reroute_wait_minutes=dict(type="int", default=0),
        termination_wait_minutes=dict(type="int", default=5),
        auto_rollback_events=dict(type="list", elements="str", default=["DEPLOYMENT_FAILURE"],
                                  choices=["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM",
                                           "DEPLOYMENT_STOP_ON_REQUEST"]),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        application=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        deployment_groups=dict(type="list", elements="dict", required=True, options=group_spec),
        purge_tags=dict(type="bool", default=True),
        validate_references=dict(type="bool", default=True),
        create_application=dict(type="bool", default=False),
        application_tags=dict(type="dict"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, ensure)


if __name__ == "__main__":
    main()
