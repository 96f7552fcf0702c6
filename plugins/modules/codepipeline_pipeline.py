#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: codepipeline_pipeline
short_description: Manage CodePipeline pipelines and the EventBridge rules that start them, several in one run
version_added: 1.0.0
description:
  - Creates, updates or deletes pipelines, their tags, and the EventBridge rules that start a pipeline when
    its CodeCommit branch or ECR tag changes (what the console makes and the API does not).
  - Written because community.aws.codepipeline does not do the job right here; it calls UpdatePipeline at
    every run and so never reports a pipeline unchanged, has no check mode and no diff, and has no pipeline
    type, execution mode or tags. amazon.aws.cloudwatchevent_rule makes one rule per run, has no check mode
    and compares the event pattern as text, so the rules are made here too, in the same run.
  - C(changed) comes from comparing the normalised declaration with GetPipeline's, ignoring what AWS adds
    (version, metadata, defaults such as C(runOrder) 1, pipeline type V1, execution mode SUPERSEDED,
    C(PollForSourceChanges) true, secrets shown as C(****)), and the rules' patterns and targets as data.
  - With O(validate_references=true), before any change, the module checks what the declarations name - the
    CodeCommit repository and branch, every file a C(CodeDeployToECS) action takes from a CodeCommit
    source (task definition and AppSpec templates), the ECR repositories, the CodeDeploy application and
    deployment group. One bad pipeline stops the run before the first pipeline changes.
  - The collection's ownership tags (C(cloudlab:) keys) among a pipeline's C(tags) go on its EventBridge rules
    too (a rule that lacks one gets it, no other tag is touched), and, without C(cloudlab:service), on an
    artifact bucket the module creates (a bucket it did not create is never tagged).
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  state:
    description: V(present) creates or updates every pipeline; V(absent) deletes them and their rules.
    type: str
    choices: [present, absent]
    default: present
  pipelines:
    description: The pipelines.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Pipeline name.
        type: str
        required: true
      role_arn:
        description: ARN of the role CodePipeline acts as (the lab's C(PipelineRole)).
        type: str
      artifact_bucket:
        description: S3 bucket of the artifact store (see O(artifact_bucket_create)).
        type: str
      stages:
        description:
          - Stages as the CodePipeline API declares them (C(name), C(actions) with C(name), C(actionTypeId),
            C(runOrder), C(configuration), C(inputArtifacts), C(outputArtifacts)). Configuration values
            are sent as strings.
          - CodePipeline's own declaration form, which CodePipeline checks; no suboptions are declared here, so
            a key the API gains needs no change of the module.
        type: list
        elements: dict
      pipeline_type:
        description: V2 (charged per action execution minute) or V1 (charged per active pipeline and month).
        type: str
        choices: [V1, V2]
        default: V2
      execution_mode:
        description: How executions that overlap are handled.
        type: str
        choices: [QUEUED, SUPERSEDED, PARALLEL]
        default: SUPERSEDED
      change_detection:
        description:
          - Keep one EventBridge rule per CodeCommit or ECR source action, whose target starts the pipeline.
          - False deletes those rules.
        type: bool
        default: true
      events_role_arn:
        description:
          - Role EventBridge takes to start the pipeline (needs C(codepipeline:StartPipelineExecution) and
            to trust C(events.amazonaws.com)). Defaults to O(pipelines[].role_arn).
        type: str
      tags:
        description: Resource tags. Omitted leaves tags alone.
        type: dict
  artifact_bucket_create:
    description:
      - Create each O(pipelines[].artifact_bucket) that does not exist (public access blocked), after every
        check passed, so that a refused input leaves the account untouched.
    type: bool
    default: false
  artifact_bucket_remove:
    description: With O(state=absent), also delete each O(pipelines[].artifact_bucket) and the artifacts in it.
    type: bool
    default: false
  purge_tags:
    description: Remove tags not listed in a pipeline's C(tags).
    type: bool
    default: true
  validate_references:
    description:
      - Check before any change that the sources, the files of CodeDeployToECS actions and the CodeDeploy
        deployment groups exist. In check mode a missing one is a warning, otherwise an error.
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
    details: Predicts creations, updates, deletions, tags and rules, and makes none.
  diff_mode:
    support: full
    details: Shows each pipeline's normalised declaration, tags and rules before and after.
  idempotent:
    support: full
    details: Pipelines and rules in the desired state are left alone; UpdatePipeline is not called.
notes:
  - Creating a pipeline runs it once, as CodePipeline does for every new pipeline (an execution with trigger
    C(CreatePipeline)). That first execution deploys what is on the sources at that moment (the branch's commit,
    the image tag), so the sources and the deployment targets should be ready before the pipeline is created;
    O(validate_references) checks that they exist.
  - Updating a pipeline starts no execution; a later change to a source does, through the rules
    (O(pipelines[].change_detection)), as does StartPipelineExecution.
"""

EXAMPLES = r"""
- name: The lab's pipeline of the customer service
  cloudlab.microservices.codepipeline_pipeline:
    pipelines:
      - name: update-customer-microservice
        role_arn: arn:aws:iam::123456789012:role/PipelineRole
        artifact_bucket: codepipeline-us-east-1-123456789012-microservices
        stages:
          - name: Source
            actions:
              - name: Source
                actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, version: "1"}
                configuration: {RepositoryName: deployment, BranchName: dev, PollForSourceChanges: "false"}
                outputArtifacts: [{name: SourceArtifact}]
              - name: Image
                actionTypeId: {category: Source, owner: AWS, provider: ECR, version: "1"}
                configuration: {RepositoryName: customer, ImageTag: latest}
                outputArtifacts: [{name: image-customer}]
          - name: Deploy
            actions:
              - name: Deploy
                actionTypeId: {category: Deploy, owner: AWS, provider: CodeDeployToECS, version: "1"}
                inputArtifacts: [{name: SourceArtifact}, {name: image-customer}]
                configuration:
                  ApplicationName: microservices
                  DeploymentGroupName: microservices-customer
                  TaskDefinitionTemplateArtifact: SourceArtifact
                  TaskDefinitionTemplatePath: taskdef-customer.json
                  AppSpecTemplateArtifact: SourceArtifact
                  AppSpecTemplatePath: appspec-customer.yaml
                  Image1ArtifactName: image-customer
                  Image1ContainerName: IMAGE1_NAME
"""

RETURN = r"""
pipelines:
  description: Each pipeline after the run (predicted in check mode), by name.
  returned: always
  type: dict
  sample:
    update-customer-microservice:
      arn: arn:aws:codepipeline:us-east-1:123456789012:update-customer-microservice
      version: 1
      rules: [update-customer-microservice-source, update-customer-microservice-image]
      tags: {}
changes:
  description: What changed (or would), by pipeline - created, updated, deleted, tags, rules.
  returned: always
  type: dict
  sample: {update-customer-microservice: [updated]}
"""

import json
import posixpath

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import error_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import warn
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import change_detection_rules
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import current_rule
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import declaration
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import differs
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import is_ours
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import normalise
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import references
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import rule_changes
from ansible_collections.cloudlab.microservices.plugins.module_utils._pipeline import source_files
from ansible_collections.cloudlab.microservices.plugins.module_utils._s3 import bucket_exists

PRESENT_KEYS = ("role_arn", "artifact_bucket", "stages")


@aws_call("read the pipeline")
def read_pipeline(codepipeline, name):
    try:
        answer = codepipeline.get_pipeline(name=name)
    except missing_code("PipelineNotFoundException"):
        return None, None
    return answer["pipeline"], answer.get("metadata") or {}


@aws_call("read the pipeline's tags")
def read_tags(codepipeline, arn):
    return dict((t["key"], t.get("value", "")) for t in
                codepipeline.list_tags_for_resource(resourceArn=arn).get("tags") or [])


@aws_call("read the EventBridge rules of the pipeline")
def read_rules(events, pipeline_name, pipeline_arn):
    """{rule name: {Name, Description, EventPattern, State, Targets}} of our rules that target the pipeline."""
    names = events.list_rule_names_by_target(TargetArn=pipeline_arn).get("RuleNames") or []
    rules = {}
    for name in names:
        try:
            rule = events.describe_rule(Name=name)
        except missing_code("ResourceNotFoundException"):
            continue
        if not is_ours(rule, pipeline_name):
            continue
        targets = events.list_targets_by_rule(Rule=name).get("Targets") or []
        tags = events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags") or []
        rules[name] = current_rule(rule, targets, dict((t["Key"], t["Value"]) for t in tags))
    return rules


class Account:
    """Partition, account and region, read once."""

    def __init__(self, module):
        identity = aws_call("read the caller identity")(aws_client(module, "sts").get_caller_identity)()
        self.partition = identity["Arn"].split(":")[1]
        self.account = identity["Account"]
        self.region = module.region

    def pipeline_arn(self, name):
        return "arn:%s:codepipeline:%s:%s:%s" % (self.partition, self.region, self.account, name)


def check_inputs(entries):
    problems = []
    for index, entry in enumerate(entries):
        missing = [k for k in PRESENT_KEYS if not entry.get(k)]
        if missing:
            problems.append("pipelines[%s]: %s required with state=present" % (entry.get("name") or index,
                                                                               ", ".join(missing)))
        elif len(entry["stages"]) < 2:
            problems.append("pipelines[%s].stages: a pipeline needs at least two stages" % entry["name"])
        if entry.get("execution_mode") == "PARALLEL" and entry.get("pipeline_type") == "V1":
            problems.append("pipelines[%s]: execution_mode PARALLEL needs pipeline_type V2" % entry["name"])
    names = [e["name"] for e in entries]
    dups = sorted(set(n for n in names if names.count(n) > 1))
    if dups:
        problems.append("pipelines: %s listed more than once" % ", ".join(dups))
    if problems:
        raise CloudlabError(message="Failed to validate pipelines: %s" % "; ".join(problems))


def reference_problems(module, decls):
    """What the declarations name and the account does not hold, as one-line problems."""
    codecommit, ecr, codedeploy = (aws_client(module, s) for s in ("codecommit", "ecr", "codedeploy"))
    problems = []
    branches_ok = {}
    for decl in decls:
        commits, images, groups = references(decl)
        where = "pipelines[%s]" % decl["name"]
        for repo, branch in sorted(commits):
            if (repo, branch) not in branches_ok:
                try:
                    aws_call("read CodeCommit branch %s of %s" % (branch, repo))(codecommit.get_branch)(
                        repositoryName=repo, branchName=branch)
                    branches_ok[(repo, branch)] = None
                except CloudlabError as e:
                    code = error_code(e)
                    if code not in ("RepositoryDoesNotExistException", "BranchDoesNotExistException"):
                        raise
                    branches_ok[(repo, branch)] = ("CodeCommit repository %r does not exist" % repo
                                                   if code == "RepositoryDoesNotExistException"
                                                   else "branch %r of CodeCommit repository %r does not exist"
                                                   % (branch, repo))
            if branches_ok[(repo, branch)]:
                problems.append("%s: %s" % (where, branches_ok[(repo, branch)]))
        folders = {}
        for action, key, repo, branch, path in source_files(decl):
            if branches_ok.get((repo, branch)):
                continue
            folder = posixpath.dirname(path) or "/"
            if (repo, branch, folder) not in folders:
                folders[(repo, branch, folder)] = read_folder(codecommit, repo, branch, folder)
            if path not in folders[(repo, branch, folder)]:
                problems.append("%s: %s %r of action %s is not in CodeCommit repository %r on branch %r"
                                % (where, key, path, action, repo, branch))
        if images:
            existing = read_image_repositories(ecr)
            for name in sorted(images - existing):
                problems.append("%s: ECR repository %r does not exist" % (where, name))
        for app, group in sorted(groups):
            found = read_deployment_group(codedeploy, app, group)
            if found:
                problems.append("%s: %s" % (where, found))
    return problems


@aws_call("read a folder of the CodeCommit repository")
def read_folder(codecommit, repo, branch, folder):
    try:
        answer = codecommit.get_folder(repositoryName=repo, commitSpecifier=branch, folderPath=folder)
    except missing_code("FolderDoesNotExistException"):
        return set()
    return set(f.get("absolutePath", "").lstrip("/") for f in answer.get("files") or [])


@aws_call("list the ECR repositories")
def read_image_repositories(ecr):
    names = set()
    for page in ecr.get_paginator("describe_repositories").paginate():
        names.update(r["repositoryName"] for r in page.get("repositories") or [])
    return names


@aws_call("read the CodeDeploy deployment group")
def read_deployment_group(codedeploy, app, group):
    """None when the group exists, else what is missing."""
    try:
        codedeploy.get_deployment_group(applicationName=app, deploymentGroupName=group)
        return None
    except missing_code("ApplicationDoesNotExistException"):
        return "CodeDeploy application %r does not exist" % app
    except missing_code("DeploymentGroupDoesNotExistException"):
        return "CodeDeploy deployment group %r of application %r does not exist" % (group, app)


@aws_call("create the artifact bucket")
def create_bucket(s3, bucket, region, tags):
    kwargs = dict(Bucket=bucket)
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    if tags:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=dict(
            TagSet=[dict(Key=k, Value=v) for k, v in sorted(tags.items())]))
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict(
        BlockPublicAcls=True, IgnorePublicAcls=True, BlockPublicPolicy=True, RestrictPublicBuckets=True))


@aws_call("delete the artifact bucket")
def delete_bucket(s3, bucket):
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


def sync_rules(module, events, name, current_rules, desired_rules, tags):
    """Put, retarget, tag or delete rules; returns True when something changed (or would).

    ``tags`` (the pipeline's ownership tags) go on a new rule; a rule that lacks one gets it."""
    changes = rule_changes(current_rules, desired_rules, tags)
    if module.check_mode:
        return bool(changes)
    for rule_name, change in changes.items():
        if change.get("delete"):
            aws_call("delete EventBridge rule %s" % rule_name)(delete_rule)(events, rule_name, current_rules[rule_name])
    for rule in desired_rules:
        change = changes.get(rule["Name"])
        if not change:
            continue
        current = current_rules.get(rule["Name"])
        if change["rule"]:
            extra = dict(Tags=[dict(Key=k, Value=v) for k, v in sorted(tags.items())]) if (
                current is None and tags) else {}
            aws_call("put EventBridge rule %s" % rule["Name"])(events.put_rule)(
                Name=rule["Name"], Description=rule["Description"], State=rule["State"],
                EventPattern=json.dumps(rule["EventPattern"], sort_keys=True), **extra)
        if change["tags"]:
            aws_call("tag EventBridge rule %s" % rule["Name"])(events.tag_resource)(
                ResourceARN=current["Arn"], Tags=[dict(Key=k, Value=v) for k, v in sorted(change["tags"].items())])
        if change["targets"]:
            stale = [t["Id"] for t in (current or {}).get("Targets", []) if t not in rule["Targets"]]
            if stale:
                aws_call("remove targets of EventBridge rule %s" % rule["Name"])(events.remove_targets)(
                    Rule=rule["Name"], Ids=stale)
            aws_call("put the target of EventBridge rule %s" % rule["Name"])(events.put_targets)(
                Rule=rule["Name"], Targets=rule["Targets"])
    return bool(changes)


def delete_rule(events, rule_name, rule):
    ids = [t["Id"] for t in rule.get("Targets") or []]
    if ids:
        events.remove_targets(Rule=rule_name, Ids=ids)
    events.delete_rule(Name=rule_name)


def ensure(module):
    p = module.params
    entries = p["pipelines"]
    codepipeline, events = aws_client(module, "codepipeline"), aws_client(module, "events")
    if p["state"] == "present":
        check_inputs(entries)
    account = Account(module)
    decls = [declaration(e) for e in entries] if p["state"] == "present" else []
    if decls and p["validate_references"]:
        problems = reference_problems(module, decls)
        if problems and module.check_mode:
            for problem in problems:
                warn(module, "Would fail unless an earlier task creates it: %s" % problem)
        elif problems:
            raise CloudlabError(message="Failed to validate pipelines against the account, nothing changed: %s"
                                        % "; ".join(problems))

    changes, out, before_diff, after_diff = {}, {}, {}, {}
    buckets = sorted(set(e["artifact_bucket"] for e in entries if e.get("artifact_bucket")))
    if p["state"] == "present" and p["artifact_bucket_create"]:
        s3 = aws_client(module, "s3")
        for bucket in buckets:
            if not bucket_exists(s3, bucket):
                changes[bucket] = ["bucket created"]
                if not module.check_mode:
                    # A bucket the collection makes is the lab's: the ownership tags of its pipelines, but a service's.
                    owner = dict((k, v) for e in entries for k, v in _lab.ownership_of(e.get("tags")).items()
                                 if k != _lab.TAG_SERVICE)
                    create_bucket(s3, bucket, account.region, owner)
    for index, entry in enumerate(entries):
        name = entry["name"]
        current, metadata = read_pipeline(codepipeline, name)
        arn = (metadata or {}).get("pipelineArn") or account.pipeline_arn(name)
        current_rules = read_rules(events, name, arn) if current is not None or p["state"] == "absent" else {}
        before = normalise(current)
        if p["state"] == "absent":
            change = (["deleted"] if current is not None else []) + (["rules"] if current_rules else [])
            if not module.check_mode:
                sync_rules(module, events, name, current_rules, [], {})
                if current is not None:
                    aws_call("delete pipeline %s" % name)(codepipeline.delete_pipeline)(name=name)
            if change:
                changes[name] = change
            before_diff[name] = dict(before or {}, rules=sorted(current_rules)) if (before or current_rules) else {}
            after_diff[name] = {}
            continue

        decl = decls[index]
        desired = normalise(decl)
        change = []
        tags_before = read_tags(codepipeline, arn) if current is not None and entry.get("tags") is not None else {}
        to_tag, to_untag = {}, []
        if entry.get("tags") is not None:
            to_tag, to_untag = compare_aws_tags(tags_before, entry["tags"], p["purge_tags"])
        version = (current or {}).get("version")
        if current is None:
            change.append("created")
            if not module.check_mode:
                kwargs = dict(pipeline=decl)
                if entry.get("tags"):
                    kwargs["tags"] = [{"key": k, "value": v} for k, v in sorted(entry["tags"].items())]
                created = aws_call("create pipeline %s" % name)(codepipeline.create_pipeline)(**kwargs)
                version = created["pipeline"].get("version")
        else:
            if differs(before, desired):
                change.append("updated")
                if not module.check_mode:
                    version = aws_call("update pipeline %s" % name)(codepipeline.update_pipeline)(
                        pipeline=decl)["pipeline"].get("version")
            if to_tag or to_untag:
                change.append("tags")
                if not module.check_mode and to_untag:
                    aws_call("untag pipeline %s" % name)(codepipeline.untag_resource)(
                        resourceArn=arn, tagKeys=to_untag)
                if not module.check_mode and to_tag:
                    aws_call("tag pipeline %s" % name)(codepipeline.tag_resource)(
                        resourceArn=arn, tags=[{"key": k, "value": v} for k, v in sorted(to_tag.items())])
        rules = []
        if entry.get("change_detection", True):
            role = entry.get("events_role_arn") or entry["role_arn"]
            rules = change_detection_rules(decl, arn, role, account.partition, account.region, account.account)
        if sync_rules(module, events, name, current_rules, rules, _lab.ownership_of(entry.get("tags"))):
            change.append("rules")
        if change:
            changes[name] = change
        tags_after = dict((k, v) for k, v in tags_before.items() if k not in to_untag)
        tags_after.update(to_tag)
        out[name] = dict(arn=arn, version=version, rules=[r["Name"] for r in rules], tags=tags_after)
        before_diff[name] = dict(before, tags=tags_before, rules=sorted(current_rules)) if before else {}
        after_diff[name] = dict(desired, tags=tags_after, rules=sorted(r["Name"] for r in rules))
    if p["state"] == "absent" and p["artifact_bucket_remove"]:
        s3 = aws_client(module, "s3")
        for bucket in buckets:
            if bucket_exists(s3, bucket):
                changes[bucket] = ["bucket deleted"]
                if not module.check_mode:
                    delete_bucket(s3, bucket)
    result = dict(changed=bool(changes), pipelines=out, changes=changes)
    if module._diff:
        result["diff"] = dict(before=before_diff, after=after_diff)
    return result


def main():
    pipeline_spec = dict(
        name=dict(type="str", required=True),
        role_arn=dict(type="str"),
        artifact_bucket=dict(type="str"),
        stages=dict(type="list", elements="dict"),
        pipeline_type=dict(type="str", choices=["V1", "V2"], default="V2"),
        execution_mode=dict(type="str", choices=["QUEUED", "SUPERSEDED", "PARALLEL"], default="SUPERSEDED"),
        change_detection=dict(type="bool", default=True),
        events_role_arn=dict(type="str"),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        pipelines=dict(type="list", elements="dict", required=True, options=pipeline_spec),
        purge_tags=dict(type="bool", default=True),
        validate_references=dict(type="bool", default=True),
        artifact_bucket_create=dict(type="bool", default=False),
        artifact_bucket_remove=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, ensure)


if __name__ == "__main__":
    main()
