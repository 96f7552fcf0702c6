# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What each role of Phases 5 to 8 would change, planned from lab_info's one read.

``plan(services, p, lab, raw)`` returns, for every role of ``ROLES``, either a list of lines saying
what that role would change (empty: nothing, and the phase skips the role's write modules) or
``None`` when the read cannot tell (the role runs, and its module decides, as before).

A planner must never say "nothing" when the role's module would change something: each one compares
with the same rules the role's module applies (the functions of _alb, _ecs_services, _codedeploy,
_pipeline, _taskdef, ...), on what lab_info read (``lab``, its return value, and ``raw``, the API
objects it read), and answers ``None`` for any input it was not given or cannot compare.

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecs_services
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline

# The roles of Phases 5 to 8, in the order the phases run them.
ROLES = ("ecr_repos", "image_push", "fargate_cluster", "codecommit_repo", "taskdef_appspec",
         "load_balancer", "ecs_services", "codedeploy", "pipelines")


# --- Phase 5 --------------------------------------------------------------------------------------------
def ecr_repos(services, p, lab, raw):
    return None


def image_push(services, p, lab, raw):
    return None


def fargate_cluster(services, p, lab, raw):
    return None


def codecommit_repo(services, p, lab, raw):
    return None


def taskdef_appspec(services, p, lab, raw):
    return None


# --- Phase 6 --------------------------------------------------------------------------------------------
def load_balancer(services, p, lab, raw):
    return None


# --- Phase 7 --------------------------------------------------------------------------------------------
def ecs_services(services, p, lab, raw):
    """ecs_codedeploy_service's changes: a service to create (missing, or not ACTIVE), ownership tags to add,
    a desired count to set. What ECS refuses to update on a CODE_DEPLOY service (task definition, load
    balancer, network) is reported by the module, never changed: not a change here either, and neither is
    what a release moved (the live target group of the pair, the pipeline's task definition revision).
    None without O(desired_count)."""
    if p.get("desired_count") is None:
        return None
    # Only compare()'s update (the desired count) is a change: the network and pair feed its refusals alone.
    wanted, _problems, _unknown = _ecs_services.desired_services(
        services, lab["target_groups"], lab["subnet_ids"], [lab["security_group"]["id"]], True, p["desired_count"])
    lines = []
    for desired in wanted:
        svc = raw["ecs"].get(desired["name"])
        if not _ecs_services.is_active(svc):
            lines.append("create ECS service %s on cluster %s" % (desired["name"], lab["cluster"]["name"]))
            continue
        lacking = _lab.missing_tags(_ecs_services.tags_of(svc), _lab.owner_tags(p["application_name"], desired["key"]))
        if lacking:
            lines.append("tag ECS service %s with %s" % (desired["name"], ", ".join(sorted(lacking))))
        update, _refused = _ecs_services.compare(_ecs_services.state_of(svc), desired, None)
        if "desiredCount" in update:
            lines.append("set the desired count of ECS service %s from %s to %s"
                         % (desired["name"], svc.get("desiredCount"), update["desiredCount"]))
    return lines


# --- Phase 8 --------------------------------------------------------------------------------------------
CODEDEPLOY_INPUTS = ("deployment_config", "reroute_wait_minutes", "termination_wait_minutes", "auto_rollback_events",
                     "codedeploy_tags")
PIPELINE_INPUTS = ("pipeline_type", "change_detection", "events_role_arn", "pipeline_tags")


def _tag_line(what, current, wanted):
    """A line when ``current`` tags are not ``wanted`` (the modules purge tags not wanted), else None."""
    to_tag, to_untag = compare_aws_tags(current or {}, wanted, True)
    if not (to_tag or to_untag):
        return None
    return "retag %s: %s" % (what, ", ".join(["set " + k for k in sorted(to_tag)] + ["remove " + k for k in sorted(to_untag)]))


def codedeploy(services, p, lab, raw):
    """codedeploy_deployment_group's changes (create_application, purge_tags, as the codedeploy role runs it):
    the application to create or retag, each group to create, update (the fields _codedeploy.differences names)
    or retag. The role's group of a service is _codedeploy.role_groups' from the lab's cluster, DeployRole and
    listeners as read. None without O(deployment_config), the waits, O(auto_rollback_events) or
    O(codedeploy_tags), or while a listener or DeployRole is missing (Phase 6 makes the listeners)."""
    if any(p.get(k) is None for k in CODEDEPLOY_INPUTS):
        return None
    listeners = lab["listener_arns"]
    if not (listeners.get("production") and listeners.get("test") and lab["deploy_role_arn"]):
        return None
    application = p["application_name"]
    groups = _codedeploy.role_groups(services, dict(
        codedeploy_application_name=application, codedeploy_service_role_arn=lab["deploy_role_arn"],
        codedeploy_cluster_name=lab["cluster"]["name"], codedeploy_listener_arns=listeners,
        codedeploy_deployment_config=p["deployment_config"], codedeploy_reroute_wait_minutes=p["reroute_wait_minutes"],
        codedeploy_termination_wait_minutes=p["termination_wait_minutes"],
        codedeploy_auto_rollback_events=p["auto_rollback_events"], codedeploy_tags=p["codedeploy_tags"]))
    lines = []
    if raw["app"] is None:
        lines.append("create CodeDeploy application %s" % application)
    else:
        lines.append(_tag_line("CodeDeploy application " + application,
                               raw["tags"].get("CodeDeploy application " + application),
                               _lab.with_owner_tags(p["codedeploy_tags"], application)))
    found = dict((g["name"], g["info"]) for g in raw["dgroups"])
    for group in groups:
        info = found.get(group["name"])
        if info is None:
            lines.append("create deployment group %s" % group["name"])
            continue
        fields = _codedeploy.differences(_codedeploy.normalise_group(info), _codedeploy.desired_group(group))
        if fields:
            lines.append("update deployment group %s: %s" % (group["name"], ", ".join(fields)))
        lines.append(_tag_line("deployment group " + group["name"], raw["tags"].get("deployment group " + group["name"]),
                               group["tags"]))
    return [line for line in lines if line]


def _rule_lines(pipeline, current, desired, tags):
    lines = []
    for name, change in sorted(_pipeline.rule_changes(current, desired, tags).items()):
        if change.get("delete"):
            lines.append("delete EventBridge rule %s of pipeline %s" % (name, pipeline))
        elif name not in current:
            lines.append("create EventBridge rule %s of pipeline %s" % (name, pipeline))
        else:
            what = [label for k, label in (("rule", "description, pattern or state"), ("targets", "targets"),
                                           ("tags", "tags")) if change[k]]
            lines.append("update EventBridge rule %s of pipeline %s: %s" % (name, pipeline, ", ".join(what)))
    return lines


def pipelines(services, p, lab, raw):
    """codepipeline_pipeline's changes (artifact_bucket_create, purge_tags, as the pipelines role runs it):
    the artifact bucket to create, each pipeline to create, update (_pipeline.differs) or retag, and its
    change detection rules to create, update, retag or delete (_pipeline.rule_changes). The role's pipeline
    of a service is _pipeline.role_pipelines' from the lab's PipelineRole, repository, branch, image tag,
    application and bucket. None without O(pipeline_type), O(change_detection), O(events_role_arn) or
    O(pipeline_tags), or when a pipeline's rules could not be read."""
    if any(p.get(k) is None for k in PIPELINE_INPUTS):
        return None
    bucket = lab["artifact_bucket"]
    entries = _pipeline.role_pipelines(services, dict(
        pipelines_role_arn=lab["pipeline_role_arn"], pipelines_repository=p["repository"],
        pipelines_branch=p["branch"], pipelines_image_tag=p["image_tag"], pipelines_application=p["application_name"],
        pipelines_artifact_bucket=bucket["name"], pipelines_type=p["pipeline_type"],
        pipelines_change_detection=p["change_detection"], pipelines_events_role_arn=p["events_role_arn"],
        pipelines_tags=p["pipeline_tags"]))
    lines = [] if bucket["exists"] else ["create artifact bucket %s" % bucket["name"]]
    found = dict((f["name"], f) for f in raw["pipelines"])
    for entry in entries:
        name, current = entry["name"], found.get(entry["name"]) or {}
        decl = _pipeline.declaration(entry)
        arn = current.get("arn") or "arn:%s:codepipeline:%s:%s:%s" % (lab["partition"], lab["region"],
                                                                      lab["account_id"], name)
        rules = {}
        if current.get("declaration") is None:
            lines.append("create pipeline %s" % name)
        else:
            if current.get("current_rules") is None:
                return None
            if _pipeline.differs(_pipeline.normalise(current["declaration"]), _pipeline.normalise(decl)):
                lines.append("update pipeline %s: its declaration differs" % name)
            lines.append(_tag_line("pipeline " + name, raw["tags"].get("pipeline " + name), entry["tags"]))
            rules = dict((n, dict(r, Tags=raw["tags"].get("EventBridge rule " + n)))
                         for n, r in current["current_rules"].items())
        desired = []
        if entry["change_detection"]:
            desired = _pipeline.change_detection_rules(decl, arn, entry["events_role_arn"] or entry["role_arn"],
                                                       lab["partition"], lab["region"], lab["account_id"])
        lines.extend(_rule_lines(name, rules, desired, _lab.ownership_of(entry["tags"])))
    return [line for line in lines if line]


PLANNERS = dict(ecr_repos=ecr_repos, image_push=image_push, fargate_cluster=fargate_cluster,
                codecommit_repo=codecommit_repo, taskdef_appspec=taskdef_appspec, load_balancer=load_balancer,
                ecs_services=ecs_services, codedeploy=codedeploy, pipelines=pipelines)


def plan(services, p, lab, raw):
    """For each role of ROLES: what it would change (a list, empty for nothing) or None (cannot tell)."""
    return dict((role, PLANNERS[role](services, p, lab, raw)) for role in ROLES)
