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

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.cloudlab.microservices.plugins.module_utils import _alb
from ansible_collections.cloudlab.microservices.plugins.module_utils import _cluster
from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecr
from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecs_services
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline
from ansible_collections.cloudlab.microservices.plugins.module_utils import _security_group
from ansible_collections.cloudlab.microservices.plugins.module_utils import _target_groups
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError

# The roles of Phases 5 to 8, in the order the phases run them.
ROLES = ("ecr_repos", "image_push", "fargate_cluster", "codecommit_repo", "taskdef_appspec",
         "load_balancer", "ecs_services", "codedeploy", "pipelines")


# --- Phase 5 --------------------------------------------------------------------------------------------
def _inputs(p, role):
    """The role's inputs lab_info was given for the plan (``plan_inputs.<role>``), or None."""
    found = (p.get("plan_inputs") or {}).get(role)
    return found if isinstance(found, dict) else None


# The ecr_repos and image_push inputs a plan takes when not given: the roles' defaults (a unit test keeps them
# equal); what a playbook wires (account, partition) is the read's, and plan_runs' wiring compares it.
ECR_REPOS_DEFAULTS = dict(image_tag_mutability="MUTABLE", scan_on_push=True, encryption_type="AES256",
                          policy_scope="account", untagged_keep=10, tags={"Project": "microservices"},
                          purge_tags=False, lab="microservices")
IMAGE_PUSH_DEFAULTS = dict(method="auto", tag="latest")


def ecr_repos(services, p, lab, raw):
    """ecr_repository's changes (the ecr_repos role's settings, _ecr.compare): a repository to create, a setting,
    policy, lifecycle policy or tag to change, or the refusal of an encryption that cannot change (the role runs
    and its module refuses). None when a repository's settings or tags were not read."""
    given = dict(ECR_REPOS_DEFAULTS, **(_inputs(p, "ecr_repos") or {}))
    try:
        settings = dict(given, scan_on_push=boolean(given["scan_on_push"]), purge_tags=boolean(given["purge_tags"]))
        policy = _ecr.policy_for(given["policy_scope"], lab["partition"], lab["account_id"])
        lifecycle = _ecr.lab_lifecycle(given["untagged_keep"])
    except (TypeError, ValueError, CloudlabError):
        # An input the role's preflight refuses (a count that is no number, ...): the role runs and says which.
        return None
    lines = []
    for repo in raw["repos"]:
        name = repo["name"]
        if not repo["exists"]:
            lines.append("create ECR repository %s" % name)
            continue
        tags = (raw.get("tags") or {}).get("ECR repository " + name)
        if repo.get("settings") is None or tags is None:
            return None
        try:
            actions, _desired, to_tag, to_untag = _ecr.compare(settings, name, dict(repo["settings"], tags=tags),
                                                               policy, lifecycle)
        except CloudlabError as e:
            lines.append(e.message)
            continue
        lines.extend(_ecr.ACTION_LINES[a] % name for a in actions if a in _ecr.ACTION_LINES)
        if "tags" in actions:
            lines.append("retag ECR repository %s: %s" % (name, ", ".join(
                ["set " + k for k in sorted(to_tag)] + ["remove " + k for k in sorted(to_untag)])))
    return lines


def image_push(services, p, lab, raw):
    """ecr_image_push's changes: an image still to push (no repository, or none tagged), or whose tag holds another
    image than the service's archive (method archive, the digests compared as the module compares them). None
    for another method (the engine's image is the module's to read), another tag than the read's, or an archive
    that could not be read."""
    missing = ["push %s:%s" % (r["name"], r["image_tag"]) for r in raw["repos"]
               if not r["exists"] or not r["image_digest"]]
    given = dict(IMAGE_PUSH_DEFAULTS, **(_inputs(p, "image_push") or {}))
    if missing:
        return missing
    archives = raw.get("archives") or {}
    if given["method"] != "archive" or given["tag"] != p["image_tag"]:
        return None
    lines = []
    for repo in raw["repos"]:
        digest = archives.get(repo["name"])
        if digest is None:
            return None
        if digest != repo["image_digest"]:
            lines.append("push %s:%s (%s, ECR holds %s)" % (repo["name"], repo["image_tag"], digest,
                                                            repo["image_digest"]))
    return lines


# The fargate_cluster inputs a plan takes when not given: the role's defaults (a unit test keeps them equal);
# the template comes with the inputs (read_lab.yml reads the role's), the VPC and subnets are the read's.
FARGATE_CLUSTER_DEFAULTS = dict(security_group_ids=[], container_insights="enabled", service_connect=False,
                                service_connect_namespace="", tags={}, lab="microservices")


def fargate_cluster(services, p, lab, raw):
    """A stack to create is planned; an existing one is compared with the template, parameters and tags as
    fargate_cluster_plan compares them (_cluster.compare_stack), given ``plan_inputs.fargate_cluster`` with
    ``template_body``. None without it, when the cluster's name is the "-c" fallback's or another choice the module
    warns about, or when the stack is not in a clean state (the module then shows its events or refuses)."""
    cluster = raw["cluster"]
    if not cluster["stack_status"]:
        return ["create stack %s with cluster %s" % (cluster["stack_name"], cluster["name"])]
    given = _inputs(p, "fargate_cluster")
    if given is None or not given.get("template_body") or cluster.get("note"):
        return None
    if cluster["stack_status"] not in _cluster.CLEAN_STATUSES or not cluster.get("stack") or cluster.get("template") is None:
        return None
    given = dict(FARGATE_CLUSTER_DEFAULTS, **given)
    settings = dict(given, vpc_id=lab["vpc_id"], subnet_ids=lab["subnet_ids"],
                    service_connect=boolean(given["service_connect"]),
                    tags=_lab.with_owner_tags(given["tags"], given["lab"]))
    compared = _cluster.compare_stack(cluster["name"], cluster["stack"], lambda: cluster["template"], settings)
    if compared["action"] == "none":
        return []
    if compared["action"] == "update":
        return ["update stack %s: %s" % (cluster["stack_name"], "; ".join(compared["differences"]))]
    return ["%s stack %s: %s" % (compared["action"], cluster["stack_name"], compared["reason"])]


def codecommit_repo(services, p, lab, raw):
    """Given ``plan_inputs.codecommit_repo`` (``remote_url``, ``description``): nothing with another remote,
    else the repository to create or its description to update, as codecommit_repository compares them."""
    given = _inputs(p, "codecommit_repo")
    if given is None or "remote_url" not in given or "description" not in given:
        return None
    if given["remote_url"]:
        return []
    found = raw.get("codecommit") or {}
    if not found.get("exists"):
        return ["create CodeCommit repository %s" % p["repository"]]
    if (found.get("description") or "") != (given["description"] or ""):
        return ["update the description of CodeCommit repository %s" % p["repository"]]
    return []


def taskdef_appspec(services, p, lab, raw):
    """The files on the branch are planned when missing; what they hold against the local folder, its
    unpushed commits and the registered revisions are the role's to compare: None then."""
    cc = raw.get("codecommit") or {}
    if not cc.get("commit"):
        return ["push the deployment files to %s of %s" % (p["branch"], p["repository"])]
    return None


# --- Phase 6 --------------------------------------------------------------------------------------------
LOAD_BALANCER_INPUTS = ("lab", "ingress_cidrs")


def load_balancer(services, p, lab, raw):
    """Given ``plan_inputs.load_balancer`` (``lab``, ``ingress_cidrs``, and ``subnet_ids`` unless they are the
    lab's public subnets the read found, as the playbooks wire them; ``state`` other than present: None): what
    alb_target_groups, ec2_security_group and alb would change, each by its own rules (_target_groups,
    _security_group, _alb). A load balancer of another scheme is planned too: alb refuses it, saying why."""
    given = _inputs(p, "load_balancer")
    if given is None or any(k not in given for k in LOAD_BALANCER_INPUTS):
        return None
    if given.get("state", "present") != "present":  # a removal: the role's modules decide
        return None
    tags = raw.get("tags") or {}
    groups = raw["groups"]
    arn_tags = dict((g["TargetGroupArn"], tags.get("target group " + n, {})) for n, g in groups.items())
    desired = _target_groups.wanted(services, lab["vpc_id"])
    lines = _target_groups.change_lines(desired, groups, arn_tags, given["lab"])
    lines.extend(_security_group.differences(raw["sg"], _security_group.rules(
        services, p["production_port"], p["test_port"], given["ingress_cidrs"], p["security_group_name"],
        p["load_balancer_name"]), given["lab"]))
    lb = raw["lb"]
    if lb is None:
        return lines + ["create load balancer %s" % p["load_balancer_name"]]
    view = _alb.lb_view(lb)
    if view["scheme"] != _alb.SCHEME:
        lines.append("load balancer %s is %s, not %s" % (p["load_balancer_name"], view["scheme"], _alb.SCHEME))
    subnets = given["subnet_ids"] if "subnet_ids" in given else lab["subnet_ids"]
    if view["subnets"] != sorted(subnets):
        lines.append("set subnets of %s to %s" % (p["load_balancer_name"], ", ".join(subnets)))
    if raw["sg"] is not None and view["security_groups"] != [raw["sg"]["GroupId"]]:
        lines.append("set security groups of %s to %s" % (p["load_balancer_name"], raw["sg"]["GroupId"]))
    lacking = _lab.missing_tags(tags.get("load balancer " + p["load_balancer_name"], {}), _lab.owner_tags(given["lab"]))
    if lacking:
        lines.append("tag %s with %s" % (p["load_balancer_name"], ", ".join(sorted(lacking))))
    arns = dict((n, g["TargetGroupArn"]) for n, g in groups.items())
    by_port = dict((ls.get("Port"), ls) for ls in raw.get("listeners") or [])
    for route in _alb.routes(services, dict(production=p["production_port"], test=p["test_port"])):
        label = "%s listener HTTP:%d" % (route["listener"], route["port"])
        listener = by_port.get(route["port"])
        if listener is None:
            lines.append("create %s" % label)
            continue
        pair = [arns.get(route["target_group"]), arns.get(route["alternate"])]
        if listener.get("Protocol") != "HTTP" or not _alb.converged(listener.get("DefaultActions"), pair):
            lines.append("point %s at %s" % (label, route["target_group"] + "/" + route["alternate"]))
        current = listener.get("Rules") or []
        if any(_alb.source_ips(r.get("Conditions")) for r in current) or any(w["source_cidrs"] for w in route["rules"]):
            # A source-ip condition follows the rule's cloudlab:source-ip tag, which the read does not hold.
            return None
        planned = _alb.plan_rules(current, route["rules"], arns, True)
        lines.extend("delete rule %s of %s" % (r.get("Priority"), label) for r in planned["delete"])
        lines.extend("point rule %s of %s at its pair" % (w["path_pattern"], label) for _r, w in planned["modify"])
        lines.extend("move rule %s of %s to priority %d" % (",".join(_alb.path_patterns(r.get("Conditions"))), label, prio)
                     for r, prio in planned["priorities"])
        lines.extend("create rule %s of %s" % (w["path_pattern"], label) for w in planned["create"])
        lines.extend("set the source-ip condition of rule %s of %s" % (w["path_pattern"], label)
                     for _r, w, _s in planned.get("sources") or [])
    return lines


def refusals(services, lab, raw, name=None):
    """What a phase would refuse, from the read, before any phase writes: resources the collection made for
    another lab (every phase would change them), a target group whose port, protocol, type or VPC differs
    (alb_target_groups's message). ``name`` is the lab's (its cloudlab:lab tag)."""
    refused = [_lab.other_labs_refusal((lab.get("ownership") or {}).get("other_labs"), name),
               _target_groups.refusal(_target_groups.wanted(services, lab["vpc_id"]), raw["groups"])]
    return [r for r in refused if r]


# --- Phase 7 --------------------------------------------------------------------------------------------
def ecs_services(services, p, lab, raw):
    """ecs_codedeploy_service's changes: a service to create (missing, or not ACTIVE), ownership tags to add,
    a desired count to set. What ECS refuses to update on a CODE_DEPLOY service (task definition, load
    balancer, network) is reported by the module, never changed: not a change here either, and neither is
    what a release moved (the live target group of the pair, the pipeline's task definition revision).
    O(desired_count) unset is the role's default: each service's own C(desired_count), else the count is left
    to whoever set it, as the module does."""
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
