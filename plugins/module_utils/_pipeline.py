# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CodePipeline rules shared by the pipeline module and the role checks: no AWS call here.

- ``declaration(entry)``: a pipeline declaration as CreatePipeline takes it, from the module's entry.
- ``normalise(declaration)``: a declaration (desired, or GetPipeline's) reduced to what the user
  declares, with what AWS adds or defaults filled in the same way on both sides (version, metadata,
  ``runOrder`` 1, empty configuration and artifacts, pipeline type V1, execution mode SUPERSEDED,
  configuration values as strings), so that two normalised declarations compare with ``==``.
- ``differs(current, desired)``: compares, ignoring what only AWS sets (optional action keys absent
  from the desired declaration, secrets AWS shows as ``****``).
- ``change_detection_rules(...)``: the EventBridge rules the console makes for CodeCommit and ECR
  sources and the API does not; ``current_rule(...)`` shapes a rule read from EventBridge the same way,
  ``rule_changes(...)`` says which rules differ and how.
- ``source_files(declaration)``: the files a CodeDeployToECS or ECS action takes from a CodeCommit
  source, to check that they exist before the pipeline is made.

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import posixpath

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

OPTIONAL_ACTION_KEYS = ("roleArn", "region", "namespace", "timeoutInMinutes")
# Configuration keys AWS may show with their default value although nobody set them.
CONFIG_DEFAULTS = {"PollForSourceChanges": "true", "OutputArtifactFormat": "CODE_ZIP"}
MARKER = "cloudlab.microservices change detection of pipeline"
DEPLOY_FILES = {
    "CodeDeployToECS": (("TaskDefinitionTemplateArtifact", "TaskDefinitionTemplatePath", "taskdef.json"),
                        ("AppSpecTemplateArtifact", "AppSpecTemplatePath", "appspec.yaml")),
}


def _string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "%s" % value


def declaration(entry):
    """The declaration CreatePipeline / UpdatePipeline takes, from a module pipeline entry."""
    stages = copy.deepcopy(entry.get("stages") or [])
    for stage in stages:
        for action in stage.get("actions") or []:
            if "configuration" in action:
                action["configuration"] = dict((k, _string(v)) for k, v in (action["configuration"] or {}).items())
            if "runOrder" in action:
                action["runOrder"] = int(action["runOrder"])
    decl = {
        "name": entry["name"],
        "roleArn": entry["role_arn"],
        "artifactStore": {"type": "S3", "location": entry["artifact_bucket"]},
        "stages": stages,
        "pipelineType": entry.get("pipeline_type") or "V2",
        "executionMode": entry.get("execution_mode") or "SUPERSEDED",
    }
    return decl


def _action(action):
    out = {
        "name": action.get("name"),
        "actionTypeId": dict((k, (action.get("actionTypeId") or {}).get(k))
                             for k in ("category", "owner", "provider", "version")),
        "runOrder": int(action.get("runOrder") or 1),
        "configuration": dict((k, _string(v)) for k, v in (action.get("configuration") or {}).items()),
        "inputArtifacts": [{"name": a.get("name")} for a in action.get("inputArtifacts") or []],
        "outputArtifacts": [{"name": a.get("name")} for a in action.get("outputArtifacts") or []],
    }
    for key in OPTIONAL_ACTION_KEYS:
        if action.get(key) not in (None, ""):
            out[key] = action[key]
    return out


def normalise(decl):
    """A declaration reduced to what is declared, defaults filled in (None stays None)."""
    if not decl:
        return None
    store = decl.get("artifactStore") or {}
    out = {
        "name": decl.get("name"),
        "roleArn": decl.get("roleArn"),
        "artifactStore": dict((k, store.get(k)) for k in ("type", "location", "encryptionKey") if store.get(k)),
        "pipelineType": decl.get("pipelineType") or "V1",
        "executionMode": decl.get("executionMode") or "SUPERSEDED",
        "stages": [],
    }
    for stage in decl.get("stages") or []:
        item = {"name": stage.get("name"), "actions": [_action(a) for a in stage.get("actions") or []]}
        if stage.get("blockers"):
            item["blockers"] = stage["blockers"]
        out["stages"].append(item)
    return out


def _comparable(current, desired):
    """``current`` with what only AWS set dropped, judged against ``desired`` (both normalised)."""
    current = copy.deepcopy(current)
    desired_actions = dict(((s["name"], a["name"]), a) for s in desired["stages"] for a in s["actions"])
    for stage in current["stages"]:
        for action in stage["actions"]:
            wanted = desired_actions.get((stage["name"], action["name"]))
            if wanted is None:
                continue
            for key in OPTIONAL_ACTION_KEYS:
                if key not in wanted:
                    action.pop(key, None)
            config = action["configuration"]
            for key, value in list(config.items()):
                if key not in wanted["configuration"] and CONFIG_DEFAULTS.get(key) == value:
                    del config[key]
                elif value == "****" and key in wanted["configuration"]:
                    config[key] = wanted["configuration"][key]  # AWS never shows a secret back
    return current


def differs(current, desired):
    """True when the normalised current declaration is not the normalised desired one."""
    if current is None:
        return True
    return _comparable(current, desired) != desired


def _source_actions(decl):
    stages = decl.get("stages") or []
    return list(stages[0].get("actions") or []) if stages else []


def change_detection_rules(decl, pipeline_arn, role_arn, partition, region, account):
    """The EventBridge rules that start ``decl`` on a change of its CodeCommit and ECR sources."""
    rules = []
    for action in _source_actions(decl):
        provider = (action.get("actionTypeId") or {}).get("provider")
        config = action.get("configuration") or {}
        if provider == "CodeCommit":
            repo_arn = "arn:%s:codecommit:%s:%s:%s" % (partition, region, account, config.get("RepositoryName"))
            pattern = {
                "source": ["aws.codecommit"],
                "detail-type": ["CodeCommit Repository State Change"],
                "resources": [repo_arn],
                "detail": {"event": ["referenceCreated", "referenceUpdated"], "referenceType": ["branch"],
                           "referenceName": [config.get("BranchName")]},
            }
            what = "branch %s of CodeCommit repository %s" % (config.get("BranchName"), config.get("RepositoryName"))
        elif provider == "ECR":
            pattern = {
                "source": ["aws.ecr"],
                "detail-type": ["ECR Image Action"],
                "detail": {"action-type": ["PUSH"], "image-tag": [config.get("ImageTag") or _lab.IMAGE_TAG],
                           "repository-name": [config.get("RepositoryName")], "result": ["SUCCESS"]},
            }
            what = "tag %s of ECR repository %s" % (config.get("ImageTag") or _lab.IMAGE_TAG, config.get("RepositoryName"))
        else:
            continue
        rules.append({
            "Name": _lab.event_rule(decl["name"], action.get("name")),
            "Description": "%s %s: %s" % (MARKER, decl["name"], what),
            "EventPattern": pattern,
            "State": "ENABLED",
            "Targets": [{"Id": "codepipeline", "Arn": pipeline_arn, "RoleArn": role_arn}],
        })
    return rules


def is_ours(rule, pipeline):
    return (rule.get("Description") or "").startswith("%s %s:" % (MARKER, pipeline))


def current_rule(rule, targets, tags):
    """A rule as DescribeRule / ListRules gives it, with ListTargetsByRule's targets and its tags ({key: value}),
    in the shape ``change_detection_rules`` gives (the EventPattern parsed, the targets sorted by Id)."""
    pattern = rule.get("EventPattern") or "{}"
    return {
        "Arn": rule.get("Arn"), "Tags": tags, "Name": rule["Name"], "Description": rule.get("Description"),
        "State": rule.get("State"), "EventPattern": json.loads(pattern) if isinstance(pattern, str) else pattern,
        "Targets": sorted(({"Id": t["Id"], "Arn": t["Arn"], "RoleArn": t.get("RoleArn")} for t in targets or []),
                          key=lambda t: t["Id"]),
    }


def rule_changes(current_rules, desired_rules, tags):
    """What syncing a pipeline's rules changes: {rule name: change}, a change being ``{"delete": True}`` for a
    current rule not desired, else ``{"rule": bool, "targets": bool, "tags": {lacking}}`` for a desired rule
    whose description, pattern or state (``rule``), targets or ownership tags differ (a missing rule: all).

    ``current_rules`` are {name: ``current_rule(...)``} of our rules that target the pipeline; ``tags`` the
    pipeline's ownership tags, which a new rule gets and an existing one gets when it lacks one."""
    desired_by_name = dict((r["Name"], r) for r in desired_rules)
    out = dict((name, {"delete": True}) for name in current_rules if name not in desired_by_name)
    for rule in desired_rules:
        current = current_rules.get(rule["Name"])
        change = {
            "rule": current is None or any(current.get(k) != rule[k] for k in ("Description", "EventPattern", "State")),
            "targets": current is None or current["Targets"] != rule["Targets"],
            "tags": _lab.missing_tags(current["Tags"], tags) if current is not None else {},
        }
        if change["rule"] or change["targets"] or change["tags"]:
            out[rule["Name"]] = change
    return out


def source_files(decl):
    """[(action, parameter, repository, branch, path)] a deploy action reads from a CodeCommit source."""
    sources = {}
    for action in _source_actions(decl):
        if (action.get("actionTypeId") or {}).get("provider") == "CodeCommit":
            config = action.get("configuration") or {}
            for artifact in action.get("outputArtifacts") or []:
                sources[artifact.get("name")] = (config.get("RepositoryName"), config.get("BranchName"))
    out = []
    for stage in (decl.get("stages") or [])[1:]:
        for action in stage.get("actions") or []:
            config = action.get("configuration") or {}
            for artifact_key, path_key, default in DEPLOY_FILES.get((action.get("actionTypeId") or {}).get("provider"), ()):
                source = sources.get(config.get(artifact_key))
                if source:
                    path = posixpath.normpath("/" + (config.get(path_key) or default)).lstrip("/")
                    out.append((action.get("name"), path_key, source[0], source[1], path))
    return out


def references(decl):
    """What a declaration names in other services: CodeCommit (repo, branch), ECR repos, CodeDeploy (app, group)."""
    commits, images, groups = set(), set(), set()
    for stage in decl.get("stages") or []:
        for action in stage.get("actions") or []:
            provider = (action.get("actionTypeId") or {}).get("provider")
            config = action.get("configuration") or {}
            if provider == "CodeCommit":
                commits.add((config.get("RepositoryName"), config.get("BranchName")))
            elif provider == "ECR":
                images.add(config.get("RepositoryName"))
            elif provider in ("CodeDeployToECS", "CodeDeploy"):
                groups.add((config.get("ApplicationName"), config.get("DeploymentGroupName")))
    return commits, images, groups


def lab_stages(service, repository, branch, image_tag, application, group):
    """Source (CodeCommit + ECR) and Deploy (CodeDeployToECS) stages of the lab's pipeline of a service."""
    image_artifact = _lab.image_artifact(service)
    return [
        {"name": "Source", "actions": [
            {"name": _lab.SOURCE_ACTION,
             "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeCommit", "version": "1"},
             "runOrder": 1, "outputArtifacts": [{"name": "SourceArtifact"}],
             # EventBridge rules start the pipeline; polling would start it a second time.
             "configuration": {"RepositoryName": repository, "BranchName": branch, "PollForSourceChanges": "false"}},
            {"name": _lab.IMAGE_ACTION,
             "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "ECR", "version": "1"},
             "runOrder": 1, "outputArtifacts": [{"name": image_artifact}],
             "configuration": {"RepositoryName": service, "ImageTag": image_tag}},
        ]},
        {"name": "Deploy", "actions": [
            {"name": "Deploy", "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CodeDeployToECS",
                                                "version": "1"},
             "runOrder": 1, "inputArtifacts": [{"name": "SourceArtifact"}, {"name": image_artifact}],
             "configuration": {
                 "ApplicationName": application, "DeploymentGroupName": group,
                 "TaskDefinitionTemplateArtifact": "SourceArtifact", "TaskDefinitionTemplatePath": _lab.taskdef_file(service),
                 "AppSpecTemplateArtifact": "SourceArtifact", "AppSpecTemplatePath": _lab.appspec_file(service),
                 "Image1ArtifactName": image_artifact, "Image1ContainerName": "IMAGE1_NAME"}},
        ]},
    ]


def role_pipelines(services, values):
    """The codepipeline_pipeline module's ``pipelines`` for the pipelines role's inputs."""
    groups = values.get("pipelines_deployment_groups") or {}
    application = values["pipelines_application"]
    out = []
    for svc in services:
        name = svc["name"]
        out.append({
            "name": _lab.pipeline(name),
            "role_arn": values.get("pipelines_role_arn"),
            "artifact_bucket": values.get("pipelines_artifact_bucket"),
            "stages": lab_stages(name, values["pipelines_repository"], values["pipelines_branch"],
                                 values.get("pipelines_image_tag") or _lab.IMAGE_TAG, application,
                                 groups.get(name) or _lab.deployment_group(application, name)),
            "pipeline_type": values.get("pipelines_type") or "V2",
            "change_detection": bool(values.get("pipelines_change_detection", True)),
            "events_role_arn": values.get("pipelines_events_role_arn") or None,
            "tags": _lab.with_owner_tags(values.get("pipelines_tags"), application, name),
        })
    return out
