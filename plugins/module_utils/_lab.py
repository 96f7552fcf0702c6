# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab as one model: every name it derives, and every rule that spans its phases.

Names: from the service list and the settings, ``model(services, settings)`` gives every name of
the lab, per service (task definition family, files on ``dev``, target group pair, rule priority,
ECS service, deployment group, pipeline and its EventBridge rules) and for the lab (CodeDeploy
application, repository, branch, clusters with the ``-c`` rule and their stacks, artifact bucket).
The functions it is made of are what the modules, filters and checks call; nothing else spells a
derived name.

Rules: AWS's formats of the ids and names the phases pass to each other (subnet, security group,
VPC, role ARN, target group and listener ARN), the path patterns and health checks of the target
groups, and the name rules of the services the lab uses (ECR tag, git branch, CodeCommit,
CodeDeploy, CodePipeline, EventBridge) with ``name_problem``, which gives one line per wrong value.

No AWS call and no Ansible import: the bench's CLI script and the local cloud's release tool read
their names from here too (``shell_names``). Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

# ---- the lab's own inputs: role defaults, never derived ------------------------------------------
APPLICATION = "microservices"
CLUSTER = "microservices-serverlesscluster"
REPOSITORY = "deployment"
BRANCH = "dev"
IMAGE_TAG = "latest"
LOAD_BALANCER = "microservicesLB"

# ---- how names are derived -----------------------------------------------------------------------
FAMILY_SUFFIX = "-microservice"
PAIR = ("one", "two")
# Which member of a pair each listener forwards to first; the other is its alternate.
LISTENER_PRIMARY = {"production": "two", "test": "one"}
PRIORITY_STEP = 10
STACK_PREFIX = "Infra-ECS-Cluster-"
FALLBACK_SUFFIX = "-c"
BUCKET_SUFFIX = "microservices"
# The pipeline's source actions, each watched by one EventBridge rule.
SOURCE_ACTION = "Source"
IMAGE_ACTION = "Image"


# ---- what the collection made, it owns: the tags that say so ------------------------------------
TAG_PREFIX = "cloudlab:"
TAG_MANAGED_BY = TAG_PREFIX + "managed-by"
TAG_LAB = TAG_PREFIX + "lab"
TAG_SERVICE = TAG_PREFIX + "service"
# On a listener rule: the source CIDRs the collection set (a service's `source_cidrs`), space separated, so that
# removing the setting removes what the collection added and nothing a user added by hand.
TAG_SOURCE_IP = TAG_PREFIX + "source-ip"
MANAGER = "cloudlab.microservices"


def owner_tags(lab=None, service=None):
    """The tags of what the collection makes: managed by it, in the lab (its CodeDeploy application name,
    ``microservices`` unless set), and for a per-service resource the service."""
    tags = {TAG_MANAGED_BY: MANAGER, TAG_LAB: lab or APPLICATION}
    if service:
        tags[TAG_SERVICE] = service
    return tags


def missing_tags(current, wanted):
    """The tags of ``wanted`` that ``current`` lacks. A key it carries keeps its value: a tag is added, never
    re-pointed."""
    current = current or {}
    return dict((k, v) for k, v in wanted.items() if k not in current)


def with_owner_tags(tags, lab=None, service=None):
    """The user's tags with the ownership tags added (a user's own value of a ``cloudlab:`` key is kept)."""
    return dict(owner_tags(lab, service), **(tags or {}))


def ownership_of(tags):
    """The ``cloudlab:`` tags among ``tags``: what a resource made for another (a pipeline's rules) carries too."""
    return dict((k, v) for k, v in (tags or {}).items() if k.startswith(TAG_PREFIX))


def owned(tags, lab=None):
    """Whether a resource's tags say the collection made it for this lab."""
    tags = tags or {}
    return tags.get(TAG_MANAGED_BY) == MANAGER and tags.get(TAG_LAB) == (lab or APPLICATION)


def other_labs(tagged, lab=None):
    """{resource: its lab} of the resources the collection made for another lab: ``cloudlab:managed-by`` says
    the collection, ``cloudlab:lab`` names a lab that is not ``lab``. ``tagged`` is [(resource, tags)]. A
    resource without a lab tag is nobody else's."""
    lab = lab or APPLICATION
    return dict((what, tags[TAG_LAB]) for what, tags in tagged
                if (tags or {}).get(TAG_MANAGED_BY) == MANAGER and tags.get(TAG_LAB) not in (None, lab))


def other_labs_refusal(found, lab=None):
    """The refusal of a run on resources another lab of the collection made ({resource: lab}, other_labs'), or
    None. A lab's names are fixed (customer-tg-one, the cluster, the pipelines): two labs in one account and
    region would change, and destroy, each other's resources."""
    if not found:
        return None
    by_lab = {}
    for what, other in sorted(found.items()):
        by_lab.setdefault(other, []).append(what)
    named = "; ".join("%s %s cloudlab:lab=%s" % (", ".join(whats), "carry" if len(whats) > 1 else "carries", other)
                      for other, whats in sorted(by_lab.items()))
    others = ", ".join(sorted(by_lab))
    return ("%s: the collection made them for the lab %s in this account and region, not for this lab (%s). A lab's "
            "names are fixed, so two labs there would change and delete each other's resources; nothing changed. "
            "Run this lab in an account or a region of its own (cloudlab_aws_connection), or, if it is that lab, "
            "set cloudlab_lab: %s." % (named, others, lab or APPLICATION, sorted(by_lab)[0]))


def owned_services(tagged, lab, services):
    """The services named by the ``cloudlab:service`` tag of owned resources that are not in ``services``.

    ``tagged`` is a list of tag dicts (one per resource); the answer is sorted and has no duplicates.
    """
    listed = set(services)
    return sorted(set(t[TAG_SERVICE] for t in tagged
                      if owned(t, lab) and t.get(TAG_SERVICE) and t[TAG_SERVICE] not in listed))


def family(service):
    """Task definition family of a service that sets none: ``customer-microservice``."""
    return service + FAMILY_SUFFIX


def ecs_service(service):
    """ECS service of a service (Phase 7): ``customer-microservice``."""
    return service + FAMILY_SUFFIX


def taskdef_file(service):
    return "taskdef-%s.json" % service


def appspec_file(service):
    return "appspec-%s.yaml" % service


def target_group(service, which):
    """``customer`` + ``one`` -> ``customer-tg-one``."""
    return "%s-tg-%s" % (service, which)


def target_group_settings(service, vpc_id):
    """What Phase 6 gives each target group of a service: its port, HTTP, type ip, the VPC, its health check path."""
    return dict(port=int(service.get("port") or 8080), protocol="HTTP", target_type="ip", vpc_id=vpc_id,
                health_check_path=service.get("health_check_path") or "/")


def target_groups(services):
    """Every target group name of the services, in order (one, two per service)."""
    return [target_group(svc["name"], which) for svc in services for which in PAIR]


def rule_priority(index):
    """Priority of the listener rule of the service at ``index`` (1 for the second service): 10, 20, ...

    The position in the list gives the priority, so appending a service never moves the others.
    """
    return PRIORITY_STEP * index


def deployment_group(application, service):
    """CodeDeploy deployment group of a service: ``microservices-customer``."""
    return "%s-%s" % (application, service)


def pipeline(service):
    """Pipeline of a service (Phase 8): ``update-customer-microservice``."""
    return "update-%s%s" % (service, FAMILY_SUFFIX)


def image_artifact(service):
    """Output artifact of the pipeline's ECR source action: ``image-customer``."""
    return "image-%s" % service


def event_rule(pipeline_name, action):
    """EventBridge rule name for a source action of a pipeline (64 characters at most)."""
    name = re.sub(r"[^.\-_A-Za-z0-9]", "-", "%s-%s" % (pipeline_name, action)).lower()
    if len(name) <= 64:
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return "%s-%s" % (name[:55], digest)


def event_rules(pipeline_name):
    """The change detection rules of a pipeline of the lab: one per source action (Source, Image)."""
    return [event_rule(pipeline_name, action) for action in (SOURCE_ACTION, IMAGE_ACTION)]


def artifact_bucket(region, account, suffix=BUCKET_SUFFIX):
    """The artifact store bucket made when none is given, as the console names its own."""
    return "codepipeline-%s-%s-%s" % (region, account, suffix)


def stack(cluster, stack_name=""):
    """The cluster's stack: ``stack_name`` when set, else the ECS console's name (no underscore in a stack name)."""
    return stack_name or (STACK_PREFIX + cluster).replace("_", "-")


def clusters(requested):
    """The cluster names the lab allows, in order: the requested one, then ``<name>-c``."""
    return [requested, requested + FALLBACK_SUFFIX]


def stacks(requested, stack_name=""):
    """Every stack the cluster may have: for the requested name and for its ``-c`` fallback."""
    out = []
    for name in clusters(requested):
        if stack(name, stack_name) not in out:
            out.append(stack(name, stack_name))
    return out


def model(services, settings=None):
    """Every name of the lab, from the (checked) service list and the settings.

    ``settings`` may hold ``application``, ``cluster`` (the requested name), ``stack_name``,
    ``repository``, ``branch``, ``image_tag``, ``artifact_bucket`` or ``region`` and ``account``
    (for the bucket's derived name); what is missing is the lab's own.
    """
    settings = settings or {}
    application = settings.get("application") or APPLICATION
    requested = settings.get("cluster") or CLUSTER
    bucket = settings.get("artifact_bucket") or ""
    if not bucket and settings.get("region") and settings.get("account"):
        bucket = artifact_bucket(settings["region"], settings["account"])
    per_service = {}
    for index, svc in enumerate(services):
        name = svc["name"]
        pipe = pipeline(name)
        per_service[name] = {
            "family": svc.get("family") or family(name),
            "ecs_service": ecs_service(name),
            "taskdef_file": taskdef_file(name),
            "appspec_file": appspec_file(name),
            "target_groups": dict((which, target_group(name, which)) for which in PAIR),
            "rule_priority": rule_priority(index) if index else None,
            "deployment_group": deployment_group(application, name),
            "pipeline": pipe,
            "image_artifact": image_artifact(name),
            "event_rules": event_rules(pipe),
        }
    return {
        "application": application,
        "repository": settings.get("repository") or REPOSITORY,
        "branch": settings.get("branch") or BRANCH,
        "image_tag": settings.get("image_tag") or IMAGE_TAG,
        "clusters": clusters(requested),
        "stacks": stacks(requested, settings.get("stack_name") or ""),
        "artifact_bucket": bucket,
        "files": sorted(f for s in per_service.values() for f in (s["taskdef_file"], s["appspec_file"])),
        "services": per_service,
    }


def shell_names(names, settings=None):
    """The model as bash assignments (for bench/lab_cli.sh): scalars, and associative arrays by service.

    ``settings`` as for ``model``; with ``region`` and ``account`` it gives the artifact bucket (``BUCKET``).
    ``TG_PRODUCTION`` and ``TG_TEST`` are the target groups each listener forwards to first.
    """
    lab = model([{"name": n} for n in names], settings)

    def quoted(value):
        return "'%s'" % str(value).replace("'", "'\\''")

    lines = ["CLUSTER=%s" % quoted(lab["clusters"][0]), "STACK=%s" % quoted(lab["stacks"][0]),
             "REPOSITORY=%s" % quoted(lab["repository"]), "BRANCH=%s" % quoted(lab["branch"]),
             "IMAGE_TAG=%s" % quoted(lab["image_tag"]), "APPLICATION=%s" % quoted(lab["application"]),
             "LOAD_BALANCER=%s" % quoted(LOAD_BALANCER), "BUCKET=%s" % quoted(lab["artifact_bucket"]),
             "SOURCE_ACTION=%s" % quoted(SOURCE_ACTION), "IMAGE_ACTION=%s" % quoted(IMAGE_ACTION)]
    per = dict((n, dict(lab["services"][n], rule_priority=lab["services"][n]["rule_priority"] or "",
                        tg_production=lab["services"][n]["target_groups"][LISTENER_PRIMARY["production"]],
                        tg_test=lab["services"][n]["target_groups"][LISTENER_PRIMARY["test"]],
                        source_rule=lab["services"][n]["event_rules"][0],
                        image_rule=lab["services"][n]["event_rules"][1])) for n in names)
    for array, key in (("FAMILY", "family"), ("TASKDEF_FILE", "taskdef_file"), ("APPSPEC_FILE", "appspec_file"),
                       ("ECS_SERVICE", "ecs_service"), ("TG_PRODUCTION", "tg_production"), ("TG_TEST", "tg_test"),
                       ("PRIORITY", "rule_priority"), ("DEPLOYMENT_GROUP", "deployment_group"),
                       ("PIPELINE", "pipeline"), ("IMAGE_ARTIFACT", "image_artifact"),
                       ("SOURCE_RULE", "source_rule"), ("IMAGE_RULE", "image_rule")):
        lines.append("declare -A %s=(%s)" % (array, " ".join(
            "[%s]=%s" % (quoted(n), quoted(per[n][key])) for n in names)))
    return "\n".join(lines)


# ---- rules that span phases ----------------------------------------------------------------------
VPC_ID_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")
SUBNET_ID_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SG_ID_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$")
TARGET_GROUP_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$")
LISTENER_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:listener/app/[^/]+/[0-9a-f]+/[0-9a-f]+$")
TARGET_GROUP_NAME_MAX = 32
# ALB path patterns: at most 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?
PATH_PATTERN_RE = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}$")
PATH_PATTERN_RULE = "must start with '/', at most 128 characters of letters, digits and _ - . $ / ~ \" ' @ : + & * ?"
HEALTH_PATH_RE = re.compile(r"^/[\x21-\x7e]{0,1023}$")
# ELBv2 quota "Condition values per rule": 5, not adjustable, counted across all of a rule's conditions
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html, Rules).
# A service's rule has one path pattern, so its source-ip condition holds at most 4 CIDRs.
RULE_CONDITION_VALUES_MAX = 5
SOURCE_CIDRS_MAX = RULE_CONDITION_VALUES_MAX - 1

# Phase 9 of the lab: 9.1 limits the admin pages, the path rule of PHASE9_ADMIN_SERVICE, to the learner's
# address; 9.2 and 9.3 release a change of that service; 9.4 scales PHASE9_SCALED_SERVICE to PHASE9_COUNT tasks.
PHASE9_ADMIN_SERVICE = "employee"
PHASE9_SCALED_SERVICE = "customer"
PHASE9_COUNT = 3

# Name rules of the services the lab uses: kind -> (pattern, what is allowed).
NAME_RULES = {
    "ecr_tag": (re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"),
                "an ECR image tag is 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"),
    "codecommit": (re.compile(r"^[\w.-]{1,100}$"),
                   "a CodeCommit repository name is 1 to 100 letters, digits, '.', '_' or '-'"),
    "codedeploy": (re.compile(r"^[A-Za-z0-9_.+=,@-]{1,100}$"),
                   "a CodeDeploy name is 1 to 100 letters, digits or _ . + = , @ -"),
    "pipeline": (re.compile(r"^[A-Za-z0-9.@_-]{1,100}$"),
                 "a CodePipeline pipeline name is 1 to 100 letters, digits or . @ _ -"),
    "event_rule": (re.compile(r"^[.\-_A-Za-z0-9]{1,64}$"),
                   "an EventBridge rule name is 1 to 64 letters, digits or . - _"),
}
QUOTE_MAX = 40


def quote(value, limit=QUOTE_MAX):
    """``repr`` of a value, a long string cut to its start with its length said: one line stays short."""
    if isinstance(value, str) and len(value) > limit:
        return "%r... (%d characters)" % (value[:limit], len(value))
    return repr(value)


def name_problem(kind, value):
    """Why ``value`` is not a name of ``kind`` (a key of NAME_RULES), or None."""
    pattern, rule = NAME_RULES[kind]
    if isinstance(value, str) and pattern.match(value):
        return None
    return rule


def branch_problem(name):
    """Why git refuses this branch name (git check-ref-format's rules), or None."""
    if not isinstance(name, str) or not name:
        return "it is empty"
    bad = [c for c in name if ord(c) < 33 or c in "~^:?*[\\\x7f"]
    if bad:
        return "it holds %s" % ", ".join(sorted(set(repr(c) for c in bad)))
    for part, why in (("..", "'..'"), ("//", "'//'"), ("@{", "'@{'")):
        if part in name:
            return "it holds %s" % why
    if name.startswith(("-", "/", ".")) or name.endswith(("/", ".", ".lock")) or name == "@":
        return "it starts with '-', '/' or '.', or ends with '/', '.' or '.lock'"
    if any(p.startswith(".") or p.endswith(".lock") for p in name.split("/")):
        return "a part between '/' starts with '.' or ends with '.lock'"
    return None


def route_problems(services, variable):
    """The listeners' routes: the first service is the default route, every other one needs its own path pattern."""
    problems = []
    if not services:
        return problems
    first = services[0]
    if first.get("path_pattern"):
        problems.append("%s[0] (service %s) has the path_pattern %r: the first service is the listeners' default "
                        "route and takes no path rule; remove it or list another service first"
                        % (variable, first["name"], first["path_pattern"]))
    if first.get("source_cidrs"):
        problems.append("%s[0] (service %s) has source_cidrs: the first service is the listeners' default action, "
                        "which takes no condition (it answers every request no rule matches); limit another "
                        "service's path rule, or remove source_cidrs" % (variable, first["name"]))
    for index, svc in enumerate(services[1:], start=1):
        if not svc.get("path_pattern"):
            problems.append("%s[%d] (service %s) has no path_pattern: every service but the first needs one, the "
                            "path its listener rule routes (such as /%s/*)" % (variable, index, svc["name"], svc["name"]))
    patterns = [s.get("path_pattern") for s in services[1:] if s.get("path_pattern")]
    dups = sorted(set(p for p in patterns if patterns.count(p) > 1))
    if dups:
        problems.append("%s: two services have the same path_pattern %s; each needs its own"
                        % (variable, ", ".join(repr(d) for d in dups)))
    return problems


def target_group_problems(services):
    """Target group names longer than AWS allows."""
    return ["target group name %s is %d characters, AWS allows %d: shorten the service name"
            % (name, len(name), TARGET_GROUP_NAME_MAX)
            for name in target_groups(services) if len(name) > TARGET_GROUP_NAME_MAX]


def prune_plan(unlisted, images=False):
    """What a prune removes, one list per module run, from lab_info's ``ownership.unlisted`` (what each owned
    service that left the list still has, only what carries the lab's and the service's ownership tags).

    A service's target groups go only when both of its pair are owned (the module removes the pair); its ECR
    repository only with ``images``, else it is listed in ``kept``."""
    names = sorted(unlisted or {})
    found = [(name, unlisted[name]) for name in names]
    clusters = sorted(set(u.get("cluster") for _n, u in found if u.get("ecs_service")))
    repositories = [u["ecr_repository"] for _n, u in found if u.get("ecr_repository")]
    return dict(
        services=names,
        pipelines=[dict(name=u["pipeline"]) for _n, u in found if u.get("pipeline")],
        deployment_groups=[dict(name=u["deployment_group"]) for _n, u in found if u.get("deployment_group")],
        ecs_cluster=clusters[0] if clusters else "",
        ecs_services=[dict(name=n) for n, u in found if u.get("ecs_service")],
        target_groups=[dict(name=n) for n, u in found if len(u.get("target_groups") or []) == len(PAIR)],
        files=dict((f, None) for _n, u in found for f in u.get("files") or []),
        ecr_repositories=repositories if images else [],
        kept=[] if images else repositories,
    )
