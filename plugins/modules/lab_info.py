#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lab_info
short_description: Everything Phases 5 to 8 of the lab made, or find missing, read in one run
version_added: 1.1.0
description:
  - Reads, and changes nothing, the whole lab for the services of O(services); only Describe, List, Get and
    Head calls, never a write, in check mode and out of it; it never reports a change.
  - First the lab context, as M(cloudlab.microservices.lab_context_info) reads it and with its return values
    (a superset of them), so it fails the same way when C(LabVPC), a subnet or C(PipelineRole) is missing.
  - Then, each read on its own thread, the ECR repositories and their O(image_tag) image; the cluster
    and its CloudFormation stack (the lab's C(-c) rule decides which of O(cluster_name) and C(<name>-c) is the
    lab's); the CodeCommit repository O(repository), its branch O(branch) and the deployment files on it;
    the task definition families; the target group pairs, the security group O(security_group_name), the load
    balancer O(load_balancer_name) with its listeners and rules (weighted forwards too); the ECS services
    and their task sets; the CodeDeploy application O(application_name), its deployment groups and the
    deployments in progress; the pipelines, their EventBridge change detection rules and the artifact bucket.
  - What does not exist is reported (C(exists=false), empty values), never an error.
  - RV(checklist) says, for the lab's tasks 5.1 to 8.2, what is done, missing or drifted (exists but differs
    from what the inputs ask), with what differs, then 9.1 when a service has C(source_cidrs) (its admin pages
    limited on both listeners) and 9.4 for a service with C(desired_count) (its count), as
    C(playbooks/phase9.yml) sets them; RV(report) is the same as lines a person reads.
  - On the local cloud (an O(endpoint_url) whose C(/_localcloud/listeners) page answers), RV(addresses) are
    the 127.0.0.1 addresses its listeners serve; elsewhere the load balancer's DNS name and listener ports.
  - Written because no module reads a lab across ECR, ECS, CloudFormation, CodeCommit, ELBv2, CodeDeploy,
    CodePipeline, EventBridge and S3 in one run; with amazon.aws and community.aws it takes about ten
    C(*_info) module runs, and ECR images, CodeCommit, CodeDeploy and CodePipeline have no C(*_info) module.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  services:
    description:
      - The services, as the C(microservices) list (see the collection's README); each entry is filled in by
        the rules every role uses (family C(<name>-microservice), port 8080, health check path C(/)).
    type: list
    elements: dict
    required: true
  image_tag:
    description: Tag of the image each ECR repository should hold (task 5.1) and the pipelines' image source watches.
    type: str
    default: latest
  cluster_name:
    description: The requested cluster name (C(fargate_cluster_requested_name)); C(<name>-c) when the lab's rule chose it.
    type: str
    default: microservices-serverlesscluster
  stack_name:
    description: The cluster's stack (C(fargate_cluster_stack_name)); empty derives it from the cluster name.
    type: str
    default: ""
  repository:
    description: CodeCommit repository of the deployment files (C(codecommit_repo_name)).
    type: str
    default: deployment
  branch:
    description: Branch of the deployment files that the pipelines watch (C(pipelines_branch)).
    type: str
    default: dev
  load_balancer_name:
    description: The load balancer (C(load_balancer_name)).
    type: str
    default: microservicesLB
  security_group_name:
    description: The load balancer's security group in the lab's VPC (C(load_balancer_security_group_name)).
    type: str
    default: microservices-sg
  production_port:
    description: Port of the production listener (C(load_balancer_production_port)).
    type: int
    default: 80
  test_port:
    description: Port of the test listener (C(load_balancer_test_port)).
    type: int
    default: 8080
  application_name:
    description: The CodeDeploy application (C(codedeploy_application_name)).
    type: str
    default: microservices
  artifact_bucket:
    description: The pipelines' artifact bucket (C(pipelines_artifact_bucket)); empty is C(codepipeline-<region>-<account>-microservices).
    type: str
    default: ""
  desired_count:
    description:
      - Desired count of every ECS service (C(ecs_services_desired_count)), for RV(plan)'s C(ecs_services).
      - Not given, the role's default (C(ecs_services_desired_count) unset), each service's own C(desired_count),
        else the count is left alone.
    type: int
  deployment_config:
    description:
      - Deployment configuration of the deployment groups (C(codedeploy_deployment_config)), for RV(plan)'s
        C(codedeploy).
      - This option and the codedeploy and pipelines inputs below default to the roles' own defaults (a unit
        test keeps them equal), so an input not given plans what the role does with it not set.
    type: str
    default: CodeDeployDefault.ECSAllAtOnce
  reroute_wait_minutes:
    description: The deployment groups' reroute wait (C(codedeploy_reroute_wait_minutes)), for RV(plan)'s C(codedeploy).
    type: int
    default: 0
  termination_wait_minutes:
    description: The deployment groups' termination wait (C(codedeploy_termination_wait_minutes)), for RV(plan)'s C(codedeploy).
    type: int
    default: 5
  auto_rollback_events:
    description: The deployment groups' rollback events (C(codedeploy_auto_rollback_events)), for RV(plan)'s C(codedeploy).
    type: list
    elements: str
    default: [DEPLOYMENT_FAILURE]
  codedeploy_tags:
    description: The user's tags of the application and groups (C(codedeploy_tags)), for RV(plan)'s C(codedeploy).
    type: dict
    default: {}
  pipeline_type:
    description: The pipelines' type (C(pipelines_type)), for RV(plan)'s C(pipelines).
    type: str
    default: V2
  change_detection:
    description: Whether the pipelines have change detection rules (C(pipelines_change_detection)), for RV(plan)'s C(pipelines).
    type: bool
    default: true
  events_role_arn:
    description: Role of the change detection rules, empty for the PipelineRole (C(pipelines_events_role_arn)), for RV(plan)'s C(pipelines).
    type: str
    default: ""
  pipeline_tags:
    description: The user's tags of the pipelines (C(pipelines_tags)), for RV(plan)'s C(pipelines).
    type: dict
    default: {}
  plan_inputs:
    description:
      - The roles' inputs the plan (RV(plan)) compares beside what it read, keyed by role; a role whose inputs
        are not given here is planned null (its module decides), unless said otherwise below.
      - C(ecr_repos) takes the ecr_repos role's C(image_tag_mutability), C(scan_on_push), C(encryption_type),
        C(policy_scope), C(untagged_keep), C(tags), C(purge_tags) and C(lab), each the role's default when not given
        (the account and partition of the policy are the read's).
      - C(image_push) takes C(method), C(tag) and C(archive_dir); only with C(method=archive) are the archives'
        digests read and compared with ECR's.
      - C(fargate_cluster) takes C(template_body) (without it the stack is planned null), C(security_group_ids),
        C(container_insights), C(service_connect), C(service_connect_namespace), C(tags) and C(lab), each the role's
        default when not given (the VPC and subnets are the read's); the deployed template is read with it.
      - C(codecommit_repo) takes C(remote_url) and C(description); C(load_balancer) takes C(lab) (the ownership
        tags' lab), C(ingress_cidrs) and C(subnet_ids) (when not given, the lab's public subnets the read found,
        as the playbooks wire them) and C(state) (any other than C(present) is planned null).
    type: dict
    default: {}
extends_documentation_fragment:
  - cloudlab.microservices.lab_context
  - cloudlab.microservices.attributes
  - cloudlab.microservices.services
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
- name: Read the whole lab
  cloudlab.microservices.lab_info:
    services: "{{ microservices }}"
  register: lab

- name: Show the checklist
  ansible.builtin.debug:
    var: lab.report
"""

RETURN = r"""
account_id:
  description: Account of the credentials, as lab_context_info returns it.
  returned: always
  type: str
  sample: "123456789012"
partition:
  description: Partition of the account.
  returned: always
  type: str
  sample: aws
region:
  description: Region of the reads.
  returned: always
  type: str
  sample: us-east-1
vpc_id:
  description: Id of the lab's VPC.
  returned: always
  type: str
  sample: vpc-0123456789abcdef0
subnet_ids:
  description: Ids of the public subnets, in the order of O(subnet_names).
  returned: always
  type: list
  elements: str
pipeline_role_arn:
  description: ARN of O(pipeline_role_name).
  returned: always
  type: str
deploy_role_arn:
  description: ARN of O(deploy_role_name); empty when it does not exist.
  returned: always
  type: str
db_host:
  description: Endpoint address of O(db_instance); empty when it is missing.
  returned: always
  type: str
registry:
  description: Host of the account's ECR registry.
  returned: always
  type: str
iam_readable:
  description: Whether the credentials could read IAM.
  returned: always
  type: bool
services:
  description: The service names, in the order of O(services).
  returned: always
  type: list
  elements: str
repositories:
  description: 'Per service: C(name), C(exists), C(uri), C(image_tag), C(image_digest) (empty when the tag is missing).'
  returned: always
  type: dict
  sample: {customer: {name: customer, exists: true, uri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/customer,
                      image_tag: latest, image_digest: "sha256:0123"}}
cluster:
  description:
    - C(requested_name), C(name) (the lab's cluster by the C(-c) rule), C(note) (why not the requested name),
      C(status) (ECS; empty when unknown), C(arn), C(stack_name), C(stack_status) (empty when missing),
      C(stack_outputs).
  returned: always
  type: dict
codecommit:
  description:
    - C(name), C(exists), C(clone_url), C(branch), C(commit) (empty when the branch is missing) and C(files),
      per deployment file of every service C({exists, placeholder}) (C(placeholder) true when the taskdef holds
      C(<IMAGE1_NAME>), the AppSpec C(<TASK_DEFINITION>)).
  returned: always
  type: dict
task_definitions:
  description: 'Per service: C(family), C(exists), C(arn) and C(revision) of its latest ACTIVE revision.'
  returned: always
  type: dict
target_groups:
  description:
    - 'Per service C({one: ..., two: ...}), each null when missing or C(name), C(arn), C(port), C(protocol),
      C(target_type), C(vpc_id), C(health_check_path); the shape of the load_balancer role''s
      C(load_balancer_target_groups).'
  returned: always
  type: dict
security_group:
  description: C(name), C(exists), C(id), C(ingress_ports) (ports open to address ranges).
  returned: always
  type: dict
load_balancer:
  description:
    - C(name), C(exists), C(arn), C(dns_name), C(state), and C(listeners) by role (C(production), C(test)),
      each with C(arn), C(port) and C(view) (where the default action and each rule forward, by target group name);
      C(routes), the listeners found as the C(listeners) that M(cloudlab.microservices.alb) returns.
  returned: always
  type: dict
listener_arns:
  description: 'C({production: ARN, test: ARN}) of the listeners found, as the codedeploy role''s C(codedeploy_listener_arns).'
  returned: always
  type: dict
live:
  description:
    - 'Per service and listener role, the target groups its route forwards to with their weights (C({customer-tg-one: 100})),
      groups of weight 0 left out; null where nothing routes it. During a traffic shift both groups show.'
  returned: always
  type: dict
  sample: {customer: {production: {customer-tg-one: 100}, test: {customer-tg-one: 100}}}
sources:
  description:
    - 'Per service and listener role, the CIDRs of the C(source-ip) condition of its route (the lab''s task 9.1):
      C([]) without one (the first service, the listeners'' default action, never has one), null where nothing
      routes it. The checklist''s 6.3 reports a rule whose CIDRs differ from the service''s C(source_cidrs).'
  returned: always
  type: dict
  sample: {employee: {production: [203.0.113.7/32], test: [203.0.113.7/32]}}
addresses:
  description: 'Per service and listener role, the URL it answers on; empty without a load balancer.'
  returned: always
  type: dict
  sample: {employee: {production: "http://microservicesLB-1.us-east-1.elb.amazonaws.com:80/admin/"}}
ecs_services:
  description:
    - Per service C(exists), and when it exists C(name), C(arn), C(status), C(deployment_controller), C(launch_type),
      C(desired_count), C(running_count), C(task_definition) and C(family) (of the PRIMARY task set when there is
      one), C(target_group) (where that task set is, the live one) and C(task_sets) (C(id), C(status),
      C(task_definition), C(target_group), C(running_count), C(scale)).
  returned: always
  type: dict
codedeploy:
  description:
    - C(application) (C(name), C(exists), C(compute_platform)) and C(deployment_groups) per service (C(name),
      C(exists), C(deployment_style), C(deployment_config), C(service_role_arn), C(ecs_services),
      C(target_groups), C(deployments_in_progress)).
  returned: always
  type: dict
deployments_in_progress:
  description: Every deployment not yet ended, C(service), C(id), C(status), C(creator).
  returned: always
  type: list
  elements: dict
pipelines:
  description:
    - Per service C(name), C(exists), and when it exists C(sources) (C(<repository>@<branch>)), C(images)
      (C(<repository>:<tag>)), C(deploys) (C(<application>/<group>)), C(artifact_bucket), C(rules) (its enabled
      change detection rules) and C(latest_execution) (C(id), C(status)).
  returned: always
  type: dict
artifact_bucket:
  description: C(name), C(exists).
  returned: always
  type: dict
ownership:
  description:
    - C(owned), for each resource found (its kind and name, such as C(target group customer-tg-one)), whether it
      carries the collection's ownership tags for this lab (C(cloudlab:managed-by), and C(cloudlab:lab) equal to
      O(application_name)).
    - C(other_labs), for each resource found that the collection made for another lab (C(cloudlab:managed-by)
      is the collection's, C(cloudlab:lab) names another lab), that lab; a lab's names are fixed, so two labs
      in one account and region would share them, and C(plan_refusals) refuses the run.
    - C(unlisted_services), the services that owned resources name in their C(cloudlab:service) tag but that are
      not in O(services); every target group of the account is read for it, and so are the ECS services on the
      lab's cluster, the pipelines of the account and the deployment groups of O(application_name) that are named
      as the lab names a service's but are not the listed services' (one list call per kind; tags read only for
      those), so that a service whose target groups were deleted by hand is still named.
    - C(unlisted), for each of those services, what a prune may remove, read for it by the lab's names and kept
      only when it carries this lab's ownership tags with that service's C(cloudlab:service) - C(pipeline),
      C(event_rules), C(deployment_group), C(ecs_service) (on C(cluster)), C(target_groups), C(ecr_repository)
      (empty or an empty list when missing or not owned) - and C(files), its files on O(branch).
    - C(unlisted_repositories), the ECR repositories that carry this lab's ownership tags for a service not in
      O(services) (such as one a prune kept); every ECR repository of the account not listed is read for it.
  returned: always
  type: dict
  sample:
    owned: {"target group customer-tg-one": true, "stack Infra-ECS-Cluster-microservices-serverlesscluster": false}
    other_labs: {}
    unlisted_services: [employee]
    unlisted: {"employee": {"pipeline": "update-employee-microservice", "target_groups": ["employee-tg-one"]}}
plan:
  description:
    - For each role of Phases 5 to 8 (C(ecr_repos), C(image_push), C(fargate_cluster), C(codecommit_repo),
      C(taskdef_appspec), C(load_balancer), C(ecs_services), C(codedeploy), C(pipelines)), what it would change
      as lines (an empty list when nothing), or null when the read cannot tell and the role's module decides.
  returned: always
  type: dict
  sample: {"load_balancer": [], "ecs_services": ["create ECS service customer-microservice"], "image_push": null}
plan_refusals:
  description:
    - What a phase would refuse, found by the read before any phase writes (resources another lab made, as
      C(ownership.other_labs) names them, and a target group whose port, protocol, type or VPC cannot change
      to what the service asks, in the words of the module that would refuse it); empty when nothing.
  returned: always
  type: list
  elements: str
checklist:
  description:
    - The lab's tasks in order (5.1 to 5.6, 6.1 to 6.3, one 7.x per service, 8.1, 8.2, then 9.1 and one 9.4 per
      service where the services ask them), each C(task), C(title),
      C(state) (C(done), C(missing) or C(drifted)) and C(details) (what is missing, then what differs).
  returned: always
  type: list
  elements: dict
  sample: [{task: "6.1", title: target groups, a pair per service, state: drifted,
            details: ["employee-tg-one health check path is /, the inventory asks /admin/suppliers"]}]
report:
  description: The checklist, each service's addresses and live target groups, and the deployments in progress, as lines.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._context import CONTEXT_OPTIONS
from ansible_collections.cloudlab.microservices.plugins.module_utils._lab_info import checklist
from ansible_collections.cloudlab.microservices.plugins.module_utils._lab_info import read_lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._lab_info import report_lines
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import ServiceError
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import check_services
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import SERVICE_OPTIONS


def lab_info(module):
    try:
        services = check_services(module.params["services"], variable="services")
    except ServiceError as e:
        raise CloudlabError(message=str(e))
    lab = read_lab(module, services)
    lab["checklist"] = checklist(services, module.params, lab)
    lab["report"] = report_lines(lab["checklist"], lab)
    lab["changed"] = False
    return lab


def main():
    argument_spec = dict(
        CONTEXT_OPTIONS,
        services=dict(type="list", elements="dict", options=SERVICE_OPTIONS, required=True),
        image_tag=dict(type="str", default="latest"),
        cluster_name=dict(type="str", default="microservices-serverlesscluster"),
        stack_name=dict(type="str", default=""),
        repository=dict(type="str", default="deployment"),
        branch=dict(type="str", default="dev"),
        load_balancer_name=dict(type="str", default="microservicesLB"),
        security_group_name=dict(type="str", default="microservices-sg"),
        production_port=dict(type="int", default=80),
        test_port=dict(type="int", default=8080),
        application_name=dict(type="str", default="microservices"),
        artifact_bucket=dict(type="str", default=""),
        desired_count=dict(type="int"),
        deployment_config=dict(type="str", default="CodeDeployDefault.ECSAllAtOnce"),
        reroute_wait_minutes=dict(type="int", default=0),
        termination_wait_minutes=dict(type="int", default=5),
        auto_rollback_events=dict(type="list", elements="str", default=["DEPLOYMENT_FAILURE"]),
        codedeploy_tags=dict(type="dict", default={}),
        pipeline_type=dict(type="str", default="V2"),
        change_detection=dict(type="bool", default=True),
        events_role_arn=dict(type="str", default=""),
        pipeline_tags=dict(type="dict", default={}),
        plan_inputs=dict(type="dict", default={}),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, lab_info)


if __name__ == "__main__":
    main()
