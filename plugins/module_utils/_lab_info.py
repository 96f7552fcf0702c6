# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One read of everything Phases 5 to 8 make, and the lab's checklist from it.

- ``read_lab(module)``: the lab context (``_context.lab_context``), then, on a few threads, the ECR
  repositories and their ``latest``, the cluster and its stack (the ``-c`` rule of ``_cluster``), the
  CodeCommit repository, its branch and files, the task definition families, the target groups, the
  security group, the load balancer with its listeners and rules, the ECS services and task sets, the
  CodeDeploy application, groups and deployments in progress, the pipelines, their EventBridge rules and
  the artifact bucket. Only Describe / List / Get / Head calls; what is missing is ``exists: false``.
- ``live(...)``, ``addresses(...)``: where each service's traffic goes and where it answers.
- ``checklist(...)``: the lab's tasks 5.1 to 8.2, each ``done``, ``missing`` or ``drifted`` with what differs.
  Pure functions, unit tested in tests/unit/plugins/modules/test_lab_info.py.

Every name comes from the lab model (_lab).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.urls import open_url

from ansible_collections.cloudlab.microservices.plugins.module_utils import _alb
from ansible_collections.cloudlab.microservices.plugins.module_utils import _cluster
from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecr
from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecs_services
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _oci
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline
from ansible_collections.cloudlab.microservices.plugins.module_utils import _plan
from ansible_collections.cloudlab.microservices.plugins.module_utils import _taskdef
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import each
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._context import lab_context
from ansible_collections.cloudlab.microservices.plugins.module_utils._s3 import bucket_exists
from ansible_collections.cloudlab.microservices.plugins.module_utils._stacks import cluster_statuses
from ansible_collections.cloudlab.microservices.plugins.module_utils._stacks import deployed_template
from ansible_collections.cloudlab.microservices.plugins.module_utils._stacks import read_stacks

DONE, MISSING, DRIFTED = "done", "missing", "drifted"
CLIENTS = ("ecr", "ecs", "cloudformation", "codecommit", "elbv2", "ec2", "codedeploy", "codepipeline", "events", "s3")


def _absent(func, *codes):
    """func()'s answer, or None when AWS answers one of ``codes`` (the thing does not exist)."""
    try:
        return func()
    except missing_code(*codes):
        return None


def _tags(resource):
    return dict((t["Key"], t["Value"]) for t in resource.get("Tags") or [])


# --- the reads ----------------------------------------------------------------------------------------
def read_repositories(ecr, services, tag):
    def one(svc):
        name = svc["name"]
        repos = _absent(lambda: ecr.describe_repositories(repositoryNames=[name])["repositories"],
                        "RepositoryNotFoundException")
        if not repos:
            return dict(name=name, exists=False, uri="", image_digest="", image_tag=tag)
        images = _absent(lambda: ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": tag}])["imageDetails"],
                         "ImageNotFoundException")
        # The settings ecr_repository compares (_ecr.compare); the tags are read_tags' (the plan adds them).
        settings = _ecr.state_of(repos[0], _ecr.read_policy(ecr, name), _ecr.read_lifecycle(ecr, name), None)
        return dict(name=name, exists=True, uri=repos[0]["repositoryUri"], image_tag=tag,
                    image_digest=(images[0].get("imageDigest") or "") if images else "", settings=settings)
    return each(one, services, lambda s: s["name"], "read the ECR repository")


def read_archive_digests(services, given):
    """{service: manifest digest of the image its archive holds} as ecr_image_push reads it (method archive; the
    archive of the entry, else <archive_dir>/<name>.oci.tar), a service's digest None when its archive cannot be read
    (the role's own checks then say why); {} unless ``given`` (plan_inputs.image_push) asks method archive."""
    if not given or given.get("method") != "archive":
        return {}
    out = {}
    for svc in services:
        out[svc["name"]] = _oci.archive_digest(_oci.service_archive(svc, given.get("archive_dir")))
    return out


def read_cluster(ecs, cfn, requested, stack_name, template=False):
    names = _lab.clusters(requested)
    statuses = cluster_statuses(ecs, names)
    stacks = read_stacks(cfn, [_lab.stack(n, stack_name) for n in names])
    name, note = _cluster.choose_name(requested, stack_name, statuses, stacks)
    if name is None:  # both names held by clusters the lab's stacks do not own: the note says so
        name = requested
    stack_of = _lab.stack(name, stack_name)
    found = (stacks.get(stack_of) or {}).get("stack") or {}
    outputs = dict((o["OutputKey"], o.get("OutputValue", "")) for o in found.get("Outputs") or [])
    # The stack as described (its tags are read_tags'), and with ``template`` its deployed template, as
    # fargate_cluster_plan compares them (the plan's); neither is in lab_info's result.
    deployed = None
    if template and found.get("StackStatus") in _cluster.SETTLED_STATUSES:
        deployed = deployed_template(cfn, stack_of)
    return dict(requested_name=requested, name=name, note=note, status=statuses.get(name, ""),
                arn=outputs.get("ClusterArn", ""), stack_name=stack_of, stack_status=found.get("StackStatus", ""),
                stack_outputs=outputs, stack=found, template=deployed)


def read_repository(codecommit, name, branch, services):
    # A name CodeCommit refuses names nothing that exists: the role's own check says what to fix.
    repo = _absent(lambda: codecommit.get_repository(repositoryName=name)["repositoryMetadata"],
                   "RepositoryDoesNotExistException", "InvalidRepositoryNameException")
    out = dict(name=name, exists=repo is not None, clone_url=(repo or {}).get("cloneUrlHttp", ""), branch=branch,
               commit="", files={}, description=(repo or {}).get("repositoryDescription", ""))
    if repo is None:
        return out
    found = _absent(lambda: codecommit.get_branch(repositoryName=name, branchName=branch)["branch"],
                    "BranchDoesNotExistException", "InvalidBranchNameException")
    if not found:
        return out
    out["commit"] = found.get("commitId", "")
    folder = codecommit.get_folder(repositoryName=name, commitSpecifier=out["commit"], folderPath="/")
    present = set(f.get("relativePath") or f.get("absolutePath", "").lstrip("/") for f in folder.get("files") or [])
    wanted = [p for svc in services for p in (_lab.taskdef_file(svc["name"]), _lab.appspec_file(svc["name"]))]

    def text(path):
        if path not in present:
            return None
        blob = codecommit.get_file(repositoryName=name, commitSpecifier=out["commit"], filePath=path)
        content = blob.get("fileContent") or b""
        return content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    texts = each(text, wanted, lambda p: p, "read the file on %s of CodeCommit repository %s:" % (branch, name))
    image, taskdef = (_taskdef.IMAGE_PLACEHOLDER, _taskdef.TASKDEF_PLACEHOLDER)
    for path, body in zip(wanted, texts):
        out["files"][path] = dict(exists=body is not None,
                                  placeholder=body is not None and (image if path.endswith(".json") else taskdef) in body)
    return out


def read_families(ecs, services):
    def one(svc):
        found = _absent(lambda: ecs.describe_task_definition(taskDefinition=svc["family"])["taskDefinition"],
                        "ClientException", "InvalidParameterException")
        if not found:
            return dict(family=svc["family"], exists=False, arn="", revision=0)
        # The latest ACTIVE revision as ecs_taskdef_sync compares it (taskdef_appspec skips it when unchanged).
        return dict(family=svc["family"], exists=True, arn=found["taskDefinitionArn"], revision=found.get("revision", 0),
                    registered=_taskdef.active(found))
    return each(one, services, lambda s: s["family"], "read the task definition family")


def read_load_balancer(elb, ec2, name, sg_name, vpc_id):
    groups = []
    for page in elb.get_paginator("describe_target_groups").paginate():
        groups.extend(page["TargetGroups"])
    sgs = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [sg_name]},
                                                {"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    lbs = _absent(lambda: elb.describe_load_balancers(Names=[name])["LoadBalancers"],
                  "LoadBalancerNotFound", "LoadBalancerNotFoundException")
    lb = (lbs or [None])[0]
    listeners = []
    if lb:
        listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        rules = each(lambda ls: elb.describe_rules(ListenerArn=ls["ListenerArn"])["Rules"], listeners,
                     lambda ls: ls["ListenerArn"], "read the rules of listener")
        for listener, found in zip(listeners, rules):
            listener["Rules"] = [r for r in found if not r.get("IsDefault")]
    return dict((g["TargetGroupName"], g) for g in groups), (sgs or [None])[0], lb, listeners


def read_services(ecs, cluster, services):
    return read_ecs_services(ecs, cluster, [_lab.ecs_service(s["name"]) for s in services])


def read_ecs_services(ecs, cluster, names):
    """{name: service} of the ECS services ``names`` on ``cluster`` that exist (tags included)."""
    def batch(chunk):
        answer = _absent(lambda: ecs.describe_services(cluster=cluster, services=chunk, include=["TAGS"]),
                         "ClusterNotFoundException")
        return (answer or {}).get("services") or []
    found = {}
    for chunk in each(batch, _ecs_services.describe_batches(names), ", ".join, "describe the ECS services"):
        for svc in chunk:
            if svc.get("status") != "INACTIVE":
                found[svc["serviceName"]] = svc
    return found


def read_codedeploy(cd, application, services):
    app = _absent(lambda: cd.get_application(applicationName=application)["application"],
                  "ApplicationDoesNotExistException")

    def one(svc):
        name = _lab.deployment_group(application, svc["name"])
        if app is None:
            return dict(name=name, info=None, deployments=[])
        info = _absent(lambda: cd.get_deployment_group(applicationName=application, deploymentGroupName=name)["deploymentGroupInfo"],
                       "DeploymentGroupDoesNotExistException")
        running = []
        if info is not None:
            ids = cd.list_deployments(applicationName=application, deploymentGroupName=name,
                                      includeOnlyStatuses=_codedeploy.IN_PROGRESS).get("deployments") or []
            for deployment_id in ids:
                d = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
                running.append(dict(id=deployment_id, status=d.get("status"), creator=d.get("creator", "")))
        return dict(name=name, info=info, deployments=running)
    return app, each(one, services, lambda s: s["name"], "read the CodeDeploy deployment group of service")


def read_pipelines(cp, events, services):
    def one(svc):
        name = _lab.pipeline(svc["name"])
        answer = _absent(lambda: cp.get_pipeline(name=name), "PipelineNotFoundException")
        decl = (answer or {}).get("pipeline")
        rules = []
        latest = {}
        arn, current_rules = "", {}
        if decl is not None:
            listed = events.list_rules(NamePrefix=name).get("Rules") or []
            rules = sorted(r["Name"] for r in listed if _pipeline.is_ours(r, name) and r.get("State") == "ENABLED")
            summaries = cp.list_pipeline_executions(pipelineName=name, maxResults=1)
            for summary in summaries.get("pipelineExecutionSummaries") or []:
                latest = dict(id=summary.get("pipelineExecutionId"), status=summary.get("status"))
            arn = (answer.get("metadata") or {}).get("pipelineArn") or ""
            current_rules = read_pipeline_rules(events, name, arn, listed) if arn else None
        return dict(name=name, declaration=decl, rules=rules, latest_execution=latest, arn=arn,
                    current_rules=current_rules)
    return each(one, services, lambda s: s["name"], "read the pipeline of service")


def read_pipeline_rules(events, name, arn, listed):
    """{rule name: rule} of our change detection rules that target the pipeline, as codepipeline_pipeline reads
    them (_pipeline.current_rule), their tags left None (read_tags reads them). ``listed`` are the rules
    ListRules gave for the pipeline's name prefix: only a rule named otherwise is described."""
    by_name = dict((r["Name"], r) for r in listed)
    out = {}
    for rule_name in events.list_rule_names_by_target(TargetArn=arn).get("RuleNames") or []:
        rule = by_name.get(rule_name) or _absent(lambda: events.describe_rule(Name=rule_name),
                                                 "ResourceNotFoundException")
        if rule is None or not _pipeline.is_ours(rule, name):
            continue
        targets = events.list_targets_by_rule(Rule=rule_name).get("Targets") or []
        out[rule_name] = _pipeline.current_rule(rule, targets, None)
    return out


def local_listeners(endpoint_url, timeout=5):
    """The local cloud's 127.0.0.1 listener addresses ({listener ARN: url}); {} elsewhere or when it serves none."""
    if not endpoint_url:
        return {}
    try:
        doc = json.loads(open_url(endpoint_url.rstrip("/") + "/_localcloud/listeners", method="GET", timeout=timeout,
                                  validate_certs=False).read())
    except Exception:  # AWS, LocalStack: no such page; a local cloud without tasks serves none
        return {}
    return dict((ls.get("listenerArn"), ls.get("url")) for ls in doc.get("listeners") or [] if ls.get("url"))


def read_lab(module, services):
    """Everything Phases 5 to 8 make, read; the result of lab_info (without the checklist)."""
    p = module.params
    # The lab context's reads (a few calls, one after the other) while the other services' clients are made.
    context, c = each(lambda start: start(), [lambda: lab_context(module),
                                              lambda: dict((name, client(module, name)) for name in CLIENTS)],
                      lambda start: "lab context", "read the")
    bucket = p["artifact_bucket"] or _lab.artifact_bucket(context["region"], context["account_id"])

    def cluster_and_services():
        cluster = read_cluster(c["ecs"], c["cloudformation"], p["cluster_name"], p["stack_name"],
                               template="fargate_cluster" in (p.get("plan_inputs") or {}))
        return cluster, read_services(c["ecs"], cluster["name"], services)

    sections = [
        lambda: read_repositories(c["ecr"], services, p["image_tag"]),
        cluster_and_services,
        lambda: read_repository(c["codecommit"], p["repository"], p["branch"], services),
        lambda: read_families(c["ecs"], services),
        lambda: read_load_balancer(c["elbv2"], c["ec2"], p["load_balancer_name"], p["security_group_name"],
                                   context["vpc_id"]),
        lambda: read_codedeploy(c["codedeploy"], p["application_name"], services),
        lambda: read_pipelines(c["codepipeline"], c["events"], services),
        lambda: bucket_exists(c["s3"], bucket),
        lambda: local_listeners(p.get("endpoint_url")),
    ]
    labels = ["ECR repositories", "cluster and ECS services", "CodeCommit repository", "task definitions",
              "load balancer", "CodeDeploy", "pipelines", "artifact bucket", "local listeners"]
    (repos, (cluster, ecs_found), codecommit, families, (groups, sg, lb, listeners), (app, dgroups), pipelines,
     bucket_found, served) = each(lambda i: sections[i](), range(len(sections)), lambda i: labels[i], "read the")
    out = assemble(services, p, context, repos, cluster, ecs_found, codecommit, families, groups, sg, lb, listeners,
                   app, dgroups, pipelines, dict(name=bucket, exists=bucket_found), served)
    found = dict(repos=repos, cluster=cluster, ecs=ecs_found, groups=groups, sg=sg, lb=lb, app=app, dgroups=dgroups,
                 pipelines=pipelines, bucket=bucket if bucket_found else "",
                 lb_name=p["load_balancer_name"], sg_name=p["security_group_name"],
                 listeners=listeners, codecommit=codecommit,
                 archives=read_archive_digests(services, (p.get("plan_inputs") or {}).get("image_push")))
    tagged = read_tags(c, context, p["application_name"], found)
    found["tags"] = dict(tagged)
    out["ownership"] = ownership(p["application_name"], services, tagged,
                                 read_candidates(c, context, p["application_name"], services, found))
    out["ownership"]["unlisted"] = read_unlisted(c, context, p, found, out["ownership"]["unlisted_services"])
    out["ownership"]["unlisted_repositories"] = read_unlisted_repositories(c["ecr"], context, p["application_name"],
                                                                           services)
    out["plan"] = _plan.plan(services, p, out, found)
    out["plan_refusals"] = _plan.refusals(services, out, found, p["application_name"])
    return out


def read_unlisted_repositories(ecr, context, lab, services):
    """The ECR repositories of the account that carry this lab's ownership tags with a service not listed (such
    as one a prune kept): every repository not listed is read for it, one ListTagsForResource each."""
    listed = set(s["name"] for s in services)
    repos = []
    for page in ecr.get_paginator("describe_repositories").paginate():
        repos.extend(r for r in page["repositories"] if r["repositoryName"] not in listed)
    tagged = [_tags(dict(Tags=ecr.list_tags_for_resource(resourceArn=r["repositoryArn"]).get("tags") or []))
              for r in repos]
    return sorted(r["repositoryName"] for r, tags in zip(repos, tagged)
                  if _lab.owned(tags, lab) and tags.get(_lab.TAG_SERVICE) == r["repositoryName"]
                  and tags[_lab.TAG_SERVICE] not in listed)


def shaped_like(names, listed, name_of):
    """The ``names`` that are not ``listed`` and that have the shape of ``name_of(service)`` for some service
    (the lab model's name rule, read back: what is before and after the service's name)."""
    before, after = name_of("\0").split("\0")
    return sorted(n for n in set(names) if n not in listed and len(n) > len(before) + len(after)
                  and n.startswith(before) and n.endswith(after))


def read_candidates(c, context, lab, services, found):
    """[(resource, its tags)] of the ECS services on the lab's cluster, the pipelines of the account and the
    deployment groups of the lab's CodeDeploy application that are not the listed services' but are named as the
    lab names them: the owned ones name services that left the list even when their target groups are gone.

    One list call per kind (pages aside); tags are read only for those candidates (ECS services: with their
    DescribeServices, ten at a time)."""
    out = []
    listed = [s["name"] for s in services]
    cluster = found["cluster"]
    if cluster["status"] == "ACTIVE":
        arns = []
        for page in c["ecs"].get_paginator("list_services").paginate(cluster=cluster["name"]):
            arns.extend(page.get("serviceArns") or [])
        names = shaped_like([a.rsplit("/", 1)[-1] for a in arns], set(_lab.ecs_service(s) for s in listed),
                            _lab.ecs_service)
        found_ecs = read_ecs_services(c["ecs"], cluster["name"], names) if names else {}
        for name, svc in sorted(found_ecs.items()):
            out.append(("ECS service " + name, dict((t["key"], t["value"]) for t in svc.get("tags") or [])))
    pipes = []
    for page in c["codepipeline"].get_paginator("list_pipelines").paginate():
        pipes.extend(p["name"] for p in page.get("pipelines") or [])
    for name in shaped_like(pipes, set(_lab.pipeline(s) for s in listed), _lab.pipeline):
        tags = c["codepipeline"].list_tags_for_resource(resourceArn=_arn(context, "codepipeline", name)).get("tags") or []
        out.append(("pipeline " + name, dict((t["key"], t["value"]) for t in tags)))
    if found["app"] is not None:
        groups = []
        for page in c["codedeploy"].get_paginator("list_deployment_groups").paginate(applicationName=lab):
            groups.extend(page.get("deploymentGroups") or [])
        for name in shaped_like(groups, set(_lab.deployment_group(lab, s) for s in listed),
                                lambda service: _lab.deployment_group(lab, service)):
            arn = _arn(context, "codedeploy", "deploymentgroup:%s/%s" % (lab, name))
            out.append(("deployment group " + name, _tags(c["codedeploy"].list_tags_for_resource(ResourceArn=arn))))
    return out


# What a prune removes, per kind of resource read_tags names: (prefix of its name there, key in the answer).
PRUNED_KINDS = (("pipeline ", "pipeline"), ("EventBridge rule ", "event_rules"), ("deployment group ", "deployment_group"),
                ("ECS service ", "ecs_service"), ("target group ", "target_groups"), ("ECR repository ", "ecr_repository"))


def read_unlisted(c, context, p, found, unlisted):
    """{service: what the lab made for it and still owns} of the owned services that left the list."""
    if not unlisted:
        return {}
    entries = [dict(name=name) for name in unlisted]
    names = set(_lab.target_groups(entries))
    pipes = read_pipelines(c["codepipeline"], c["events"], entries)
    _app, dgroups = read_codedeploy(c["codedeploy"], p["application_name"], entries)
    mine = dict(repos=read_repositories(c["ecr"], entries, p["image_tag"]),
                cluster=dict(stack_name="", stack_status=""),
                ecs=read_services(c["ecs"], found["cluster"]["name"], entries),
                groups=dict((n, g) for n, g in found["groups"].items() if n in names),
                sg=None, lb=None, app=None, dgroups=dgroups, pipelines=pipes, bucket="")
    files = read_repository(c["codecommit"], p["repository"], p["branch"], entries)["files"]
    return unlisted_resources(p["application_name"], unlisted, read_tags(c, context, p["application_name"], mine),
                              found["cluster"]["name"], files)


def unlisted_resources(lab, unlisted, tagged, cluster, files):
    """Per unlisted service, the resources ``tagged`` names that carry this lab's ownership tags and that
    service's ``cloudlab:service`` tag (a pipeline's rules: the pipeline's), and its files on the branch."""
    out = dict((name, dict(pipeline="", event_rules=[], deployment_group="", ecs_service="", cluster=cluster,
                           target_groups=[], ecr_repository="",
                           files=[f for f in (_lab.taskdef_file(name), _lab.appspec_file(name))
                                  if (files.get(f) or {}).get("exists")]))
               for name in unlisted)
    for what, tags in tagged:
        service = (tags or {}).get(_lab.TAG_SERVICE)
        if service not in out or not _lab.owned(tags, lab):
            continue
        for prefix, key in PRUNED_KINDS:
            if what.startswith(prefix):
                name = what[len(prefix):]
                if isinstance(out[service][key], list):
                    out[service][key] = sorted(out[service][key] + [name])
                else:
                    out[service][key] = name
    return out


# --- what the collection owns: the ownership tags of what was found -------------------------------------
def _arn(context, service, resource):
    return "arn:%s:%s:%s:%s:%s" % (context["partition"], service, context["region"], context["account_id"], resource)


def read_tags(c, context, application, found):
    """[(resource, its tags)] of what exists, and of every target group in the account.

    The target groups are read whether listed or not: their ``cloudlab:service`` tags name the owned services
    that left the list (one DescribeTags call per 20 groups)."""
    out = []
    for repo in found["repos"]:
        if repo["exists"]:
            arn = _arn(context, "ecr", "repository/" + repo["name"])
            tags = c["ecr"].list_tags_for_resource(resourceArn=arn).get("tags") or []
            out.append(("ECR repository " + repo["name"], _tags(dict(Tags=tags))))
    stack = found["cluster"]["stack_name"]
    if found["cluster"]["stack_status"]:
        # read_cluster described it already.
        described = found["cluster"].get("stack") or c["cloudformation"].describe_stacks(StackName=stack)["Stacks"][0]
        out.append(("stack " + stack, _tags(described)))
    elb_arns = [g["TargetGroupArn"] for g in found["groups"].values()]
    if found["lb"]:
        elb_arns.append(found["lb"]["LoadBalancerArn"])
    elb_tags = {}
    for start in range(0, len(elb_arns), 20):
        for desc in c["elbv2"].describe_tags(ResourceArns=elb_arns[start:start + 20])["TagDescriptions"]:
            elb_tags[desc["ResourceArn"]] = _tags(desc)
    for name, group in sorted(found["groups"].items()):
        tags = elb_tags.get(group["TargetGroupArn"], {})
        out.append(("target group " + name, tags))
    if found["lb"]:
        out.append(("load balancer " + found["lb_name"],
                    elb_tags.get(found["lb"]["LoadBalancerArn"], {})))
    if found["sg"]:
        out.append(("security group " + found["sg_name"], _tags(found["sg"])))
    for name, svc in sorted(found["ecs"].items()):
        tags = dict((t["key"], t["value"]) for t in svc.get("tags") or [])
        out.append(("ECS service " + name, tags))
    cd = c["codedeploy"]
    if found["app"] is not None:
        arn = _arn(context, "codedeploy", "application:" + application)
        out.append(("CodeDeploy application " + application,
                    _tags(cd.list_tags_for_resource(ResourceArn=arn))))
    for group in found["dgroups"]:
        if group["info"] is not None:
            arn = _arn(context, "codedeploy", "deploymentgroup:%s/%s" % (application, group["name"]))
            out.append(("deployment group " + group["name"],
                        _tags(cd.list_tags_for_resource(ResourceArn=arn))))
    for pipe in found["pipelines"]:
        if pipe["declaration"] is not None:
            tags = c["codepipeline"].list_tags_for_resource(resourceArn=_arn(context, "codepipeline", pipe["name"])).get("tags") or []
            out.append(("pipeline " + pipe["name"], dict((t["key"], t["value"]) for t in tags)))
            for rule in pipe["rules"]:
                tags = c["events"].list_tags_for_resource(ResourceARN=_arn(context, "events", "rule/" + rule)).get("Tags") or []
                out.append(("EventBridge rule " + rule, _tags(dict(Tags=tags))))
    if found["bucket"]:
        tags = _absent(lambda: c["s3"].get_bucket_tagging(Bucket=found["bucket"])["TagSet"],
                       "NoSuchTagSet")
        out.append(("bucket " + found["bucket"], _tags(dict(Tags=tags))))
    return out


def ownership(lab, services, tagged, candidates=()):
    """Whether each resource found carries the ownership tags of the lab, and the owned services not listed.

    ``tagged`` is [(resource, tags)], as ``read_tags`` gives it; ``candidates`` the same of what may belong to
    services not listed (``read_candidates``): they name services, they are not part of ``owned``."""
    return dict(owned=dict((what, _lab.owned(tags, lab)) for what, tags in tagged),
                other_labs=_lab.other_labs(tagged, lab),
                unlisted_services=_lab.owned_services([tags for _what, tags in list(tagged) + list(candidates)], lab,
                                                      [s["name"] for s in services]))


# --- the shape of the answer ----------------------------------------------------------------------------
def _group_view(group):
    if not group:
        return None
    return dict(name=group["TargetGroupName"], arn=group["TargetGroupArn"], port=group.get("Port"),
                protocol=group.get("Protocol"), target_type=group.get("TargetType"), vpc_id=group.get("VpcId"),
                health_check_path=group.get("HealthCheckPath"))


def route(actions, names):
    """{target group name: weight} of an action list that forwards; None when it does not forward."""
    forwards = [a for a in actions or [] if a.get("Type") == "forward"]
    if len(forwards) != 1:
        return None
    config = (forwards[0].get("ForwardConfig") or {}).get("TargetGroups")
    if config:
        return dict((names.get(g["TargetGroupArn"], _alb.name_of_arn(g["TargetGroupArn"])), g.get("Weight", 1))
                    for g in config if g.get("Weight", 1) != 0)
    arn = forwards[0].get("TargetGroupArn")
    return {names.get(arn, _alb.name_of_arn(arn)): 1} if arn else None


def live(services, listeners, ports, names):
    """{service: {production: {group: weight}, test: {...}}} from the listeners' default actions and rules.

    The first service is the listeners' default route, each other one the rule of its path pattern
    (as _alb.routes lays them out); None where no listener or rule routes it.
    """
    out = {}
    for index, svc in enumerate(services):
        out[svc["name"]] = {}
        for role, port in ports.items():
            actions = (_service_route(listeners, port, index, svc) or {}).get("Actions")
            out[svc["name"]][role] = route(actions, names) if actions else None
    return out


def _service_route(listeners, port, index, svc):
    """A service's route on the listener of ``port``: ``{Actions, Conditions}`` (the listener's default for the
    first service, else the rule of its path pattern), or None."""
    listener = dict((ls.get("Port"), ls) for ls in listeners).get(port)
    if listener and index == 0:
        return dict(Actions=listener.get("DefaultActions"), Conditions=[])
    for rule in (listener or {}).get("Rules") or []:
        if _alb.path_patterns(rule.get("Conditions")) == [svc["path_pattern"]]:
            return rule
    return None


def sources(services, listeners, ports):
    """{service: {production: [CIDR], test: [...]}}: the source-ip condition of each service's rule ([] without
    one), None where no rule routes the service (9.1)."""
    out = {}
    for index, svc in enumerate(services):
        out[svc["name"]] = {}
        for role, port in ports.items():
            route = _service_route(listeners, port, index, svc)
            out[svc["name"]][role] = None if route is None else _alb.source_ips(route.get("Conditions"))
    return out


def service_path(svc, index):
    """The path a service answers on behind the listeners: / for the first, its path pattern's stem otherwise."""
    if index == 0 or not svc.get("path_pattern"):
        return "/"
    stem = svc["path_pattern"].split("*")[0].split("?")[0]
    return stem if stem.endswith("/") else stem + "/"


def addresses(services, lb, listeners, ports, served):
    """{service: {production: url, test: url}}: the local cloud's 127.0.0.1 listener when it serves one,
    else the load balancer's DNS name and the listener's port; {} without a load balancer."""
    if not lb:
        return {}
    by_port = dict((ls.get("Port"), ls) for ls in listeners)
    out = {}
    for index, svc in enumerate(services):
        path = service_path(svc, index)
        out[svc["name"]] = {}
        for role, port in ports.items():
            listener = by_port.get(port)
            if listener is None:
                continue
            base = served.get(listener["ListenerArn"]) or "http://%s:%s" % (lb.get("DNSName"), port)
            out[svc["name"]][role] = base.rstrip("/") + path
    return out


def _service_view(current, names):
    if not current:
        return dict(exists=False)
    state = _ecs_services.state_of(current)
    task_definition = state["task_definition"] or ""
    family = task_definition.rsplit("/", 1)[-1].split(":")[0] if task_definition else ""
    return dict(exists=True, name=state["name"], status=state["status"], arn=current.get("serviceArn", ""),
                deployment_controller=state["deployment_controller"], launch_type=state["launch_type"],
                desired_count=current.get("desiredCount"), running_count=current.get("runningCount"),
                task_definition=task_definition, family=family,
                target_group=names.get(state["target_group_arn"], _alb.name_of_arn(state["target_group_arn"] or "")),
                task_sets=[dict(id=t.get("id"), status=t.get("status"), task_definition=t.get("taskDefinition"),
                                target_group=names.get(((t.get("loadBalancers") or [{}])[0]).get("targetGroupArn"), ""),
                                running_count=t.get("runningCount"), scale=(t.get("scale") or {}).get("value"))
                           for t in current.get("taskSets") or []])


def _pipeline_view(found):
    decl = found["declaration"]
    if decl is None:
        return dict(name=found["name"], exists=False)
    commits, _images, groups = _pipeline.references(decl)
    images = ["%s:%s" % ((a.get("configuration") or {}).get("RepositoryName"),
                         (a.get("configuration") or {}).get("ImageTag") or "latest")
              for s in decl.get("stages") or [] for a in s.get("actions") or []
              if (a.get("actionTypeId") or {}).get("provider") == "ECR"]
    return dict(name=found["name"], exists=True, sources=sorted("%s@%s" % c for c in commits),
                images=sorted(images),
                deploys=sorted("%s/%s" % g for g in groups),
                artifact_bucket=(decl.get("artifactStore") or {}).get("location", ""),
                rules=found["rules"], latest_execution=found["latest_execution"])


def _group_info_view(group):
    info = group["info"]
    if info is None:
        return dict(name=group["name"], exists=False, deployments_in_progress=[])
    normal = _codedeploy.normalise_group(info)
    pairs = normal["loadBalancerInfo"].get("targetGroupPairInfoList") or [{}]
    return dict(name=group["name"], exists=True, deployment_style=normal["deploymentStyle"]["deploymentType"],
                deployment_config=normal["deploymentConfigName"], service_role_arn=normal["serviceRoleArn"],
                ecs_services=["%s/%s" % (s["clusterName"], s["serviceName"]) for s in normal["ecsServices"]],
                target_groups=[t["name"] for t in pairs[0].get("targetGroups") or []],
                deployments_in_progress=group["deployments"])


def assemble(services, p, context, repos, cluster, ecs_found, codecommit, families, groups, sg, lb, listeners,
             app, dgroups, pipelines, bucket, served):
    names = dict((g["TargetGroupArn"], n) for n, g in groups.items())
    ports = dict(production=p["production_port"], test=p["test_port"])
    out = dict(context)
    out["services"] = [s["name"] for s in services]
    out["repositories"] = dict((r["name"], dict((k, v) for k, v in r.items() if k != "settings")) for r in repos)
    out["cluster"] = dict((k, v) for k, v in cluster.items() if k not in ("stack", "template"))
    out["codecommit"] = codecommit
    out["task_definitions"] = dict((s["name"], f) for s, f in zip(services, families))
    out["target_groups"] = dict((s["name"], dict((which, _group_view(groups.get(_lab.target_group(s["name"], which))))
                                                 for which in _lab.PAIR)) for s in services)
    out["security_group"] = dict(name=p["security_group_name"], exists=sg is not None, id=(sg or {}).get("GroupId", ""),
                                 ingress_ports=sorted(set(r.get("FromPort") for r in (sg or {}).get("IpPermissions") or []
                                                          if r.get("FromPort") is not None and r.get("IpRanges"))))
    by_port = dict((ls.get("Port"), ls) for ls in listeners)
    out["load_balancer"] = dict(
        name=p["load_balancer_name"], exists=lb is not None, arn=(lb or {}).get("LoadBalancerArn", ""),
        dns_name=(lb or {}).get("DNSName", ""), state=((lb or {}).get("State") or {}).get("Code", ""),
        listeners=dict((role, dict(arn=by_port[port]["ListenerArn"], port=port,
                                   view=_alb.listener_view(by_port[port], by_port[port].get("Rules") or [])))
                       for role, port in ports.items() if port in by_port))
    out["listener_arns"] = dict((role, v["arn"]) for role, v in out["load_balancer"]["listeners"].items())
    out["load_balancer"]["routes"] = dict((r["listener"], _alb.route_view(r, by_port[r["port"]], by_port[r["port"]].get("Rules") or []))
                                          for r in _alb.routes(services, ports) if r["port"] in by_port)
    out["live"] = live(services, listeners, ports, names)
    out["sources"] = sources(services, listeners, ports)
    out["addresses"] = addresses(services, lb, listeners, ports, served)
    out["ecs_services"] = dict((s["name"], _service_view(ecs_found.get(_lab.ecs_service(s["name"])), names))
                               for s in services)
    out["codedeploy"] = dict(application=dict(name=p["application_name"], exists=app is not None,
                                              compute_platform=(app or {}).get("computePlatform", "")),
                             deployment_groups=dict((s["name"], _group_info_view(g)) for s, g in zip(services, dgroups)))
    out["deployments_in_progress"] = [dict(d, service=s["name"]) for s, g in zip(services, dgroups)
                                      for d in g["deployments"]]
    out["pipelines"] = dict((s["name"], _pipeline_view(f)) for s, f in zip(services, pipelines))
    out["artifact_bucket"] = bucket
    return out


# --- the checklist --------------------------------------------------------------------------------------
def _item(task, title, problems, missing):
    """A checklist entry: missing when something is missing, drifted when something differs, else done."""
    state = MISSING if missing else (DRIFTED if problems else DONE)
    return dict(task=task, title=title, state=state, details=missing + problems)


def _compare(what, have, want):
    return [] if have == want else ["%s is %s, the inventory asks %s" % (what, have, want)]


def checklist(services, p, lab):
    """The lab's tasks 5.1 to 8.2 (7.1, 7.2, ... one per service), each done, missing or drifted."""
    items = []
    ports = dict(production=p["production_port"], test=p["test_port"])
    missing = []
    for name, repo in sorted(lab["repositories"].items()):
        if not repo["exists"]:
            missing.append("ECR repository %s does not exist" % name)
        elif not repo["image_digest"]:
            missing.append("ECR repository %s has no image tagged %s" % (name, repo["image_tag"]))
    items.append(_item("5.1", "ECR repositories and their %s image" % p["image_tag"], [], missing))

    cluster = lab["cluster"]
    missing, problems = [], []
    if not cluster["stack_status"]:
        missing.append("stack %s does not exist" % cluster["stack_name"])
    elif cluster["stack_status"] not in _cluster.SETTLED_STATUSES or cluster["status"] != "ACTIVE":
        problems.append("stack %s is %s, cluster %s is %s" % (
            cluster["stack_name"], cluster["stack_status"], cluster["name"], cluster["status"] or "unknown to ECS"))
    items.append(_item("5.2", "Fargate cluster %s through CloudFormation" % cluster["name"], problems, missing))

    cc = lab["codecommit"]
    missing = []
    if not cc["exists"]:
        missing.append("CodeCommit repository %s does not exist" % cc["name"])
    elif not cc["commit"]:
        missing.append("branch %s of %s does not exist" % (cc["branch"], cc["name"]))
    items.append(_item("5.3", "CodeCommit repository %s, branch %s" % (cc["name"], cc["branch"]), [], missing))

    image, taskdef = (_taskdef.IMAGE_PLACEHOLDER, _taskdef.TASKDEF_PLACEHOLDER)
    for task, kind, title in (("5.4", "taskdef", "task definitions on %s and registered" % cc["branch"]),
                              ("5.5", "appspec", "AppSpec files on %s" % cc["branch"])):
        missing = []
        for svc in services:
            path = (_lab.taskdef_file if kind == "taskdef" else _lab.appspec_file)(svc["name"])
            if not cc["files"].get(path, {}).get("exists"):
                missing.append("%s is not on %s" % (path, cc["branch"]))
            if kind == "taskdef" and not lab["task_definitions"][svc["name"]]["exists"]:
                missing.append("task definition family %s is not registered" % svc["family"])
        items.append(_item(task, title, [], missing))
    problems = []
    for path, found in sorted(cc["files"].items()):
        if found["exists"] and not found["placeholder"]:
            problems.append("%s has no %s placeholder" % (path, image if path.endswith(".json") else taskdef))
    missing = [] if cc["commit"] else ["nothing pushed to %s" % cc["branch"]]
    items.append(_item("5.6", "placeholders, committed and pushed to %s" % cc["branch"], problems, missing))

    missing, problems = [], []
    for svc in services:
        want = _lab.target_group_settings(svc, lab["vpc_id"])
        for which in _lab.PAIR:
            group = lab["target_groups"][svc["name"]][which]
            name = _lab.target_group(svc["name"], which)
            if group is None:
                missing.append("target group %s does not exist" % name)
                continue
            for key, value in sorted(want.items()):
                problems.extend(_compare("%s %s" % (name, key.replace("_", " ")), group[key], value))
    items.append(_item("6.1", "target groups, a pair per service", problems, missing))

    sg = lab["security_group"]
    missing = [] if sg["exists"] else ["security group %s does not exist" % sg["name"]]
    problems = ["%s does not open TCP %s" % (sg["name"], port) for port in sorted(ports.values())
                if sg["exists"] and port not in sg["ingress_ports"]]
    items.append(_item("6.2", "security group %s" % sg["name"], problems, missing))

    lb = lab["load_balancer"]
    missing, problems = [], []
    if not lb["exists"]:
        missing.append("load balancer %s does not exist" % lb["name"])
    else:
        for role, port in sorted(ports.items()):
            if role not in lb["listeners"]:
                missing.append("%s has no listener on port %s" % (lb["name"], port))
        for svc in services:
            pair = set(_lab.target_group(svc["name"], w) for w in _lab.PAIR)
            for role in sorted(lb["listeners"]):
                route = lab["live"][svc["name"]][role]
                if route is None:
                    missing.append("the %s listener does not route %s" % (role, svc["name"]))
                elif not set(route) <= pair:
                    problems.append("the %s listener sends %s to %s, not to its pair %s"
                                    % (role, svc["name"], "+".join(sorted(route)), "/".join(sorted(pair))))
                have = lab["sources"][svc["name"]][role]
                want = svc.get("source_cidrs") or []
                if want and have is not None and sorted(have) != sorted(want):
                    problems.append("the %s listener's rule %s lets %s through, the inventory asks source_cidrs %s"
                                    % (role, svc["path_pattern"], ",".join(have) or "every address", ",".join(want)))
    items.append(_item("6.3", "load balancer %s, listeners and rules" % lb["name"], problems, missing))

    for index, svc in enumerate(services):
        found = lab["ecs_services"][svc["name"]]
        name = _lab.ecs_service(svc["name"])
        missing, problems = [], []
        if not found["exists"]:
            missing.append("ECS service %s is not on cluster %s" % (name, lab["cluster"]["name"]))
        else:
            problems.extend(_compare("%s deployment controller" % name, found["deployment_controller"],
                                     _ecs_services.CODE_DEPLOY))
            problems.extend(_compare("%s launch type" % name, found["launch_type"], _ecs_services.LAUNCH_TYPE))
            problems.extend(_compare("%s task definition family" % name, found["family"], svc["family"]))
            pair = [_lab.target_group(svc["name"], w) for w in _lab.PAIR]
            if found["target_group"] not in pair:
                problems.append("%s is behind %s, not %s" % (
                    name, found["target_group"] or "no target group", " or ".join(pair)))
        items.append(_item("7.%d" % (index + 1), "ECS service %s" % name, problems, missing))

    cd = lab["codedeploy"]
    missing, problems = [], []
    if not cd["application"]["exists"]:
        missing.append("CodeDeploy application %s does not exist" % cd["application"]["name"])
    for svc in services:
        group = cd["deployment_groups"][svc["name"]]
        if not group["exists"]:
            missing.append("deployment group %s does not exist" % group["name"])
            continue
        problems.extend(_compare("%s deployment type" % group["name"], group["deployment_style"], "BLUE_GREEN"))
        problems.extend(_compare("%s ECS service" % group["name"], group["ecs_services"],
                                 ["%s/%s" % (lab["cluster"]["name"], _lab.ecs_service(svc["name"]))]))
        problems.extend(_compare("%s target groups" % group["name"], sorted(group["target_groups"]),
                                 sorted(_codedeploy.target_group_pair(svc["name"], {}))))
    items.append(_item("8.1", "CodeDeploy application %s and deployment groups" % cd["application"]["name"],
                       problems, missing))

    missing, problems = [], []
    for svc in services:
        pipeline = lab["pipelines"][svc["name"]]
        if not pipeline["exists"]:
            missing.append("pipeline %s does not exist" % pipeline["name"])
            continue
        problems.extend(_compare("%s source" % pipeline["name"], pipeline["sources"],
                                 ["%s@%s" % (p["repository"], p["branch"])]))
        problems.extend(_compare("%s image" % pipeline["name"], pipeline["images"],
                                 ["%s:%s" % (svc["name"], p["image_tag"])]))
        problems.extend(_compare("%s deploys to" % pipeline["name"], pipeline["deploys"],
                                 ["%s/%s" % (p["application_name"], _lab.deployment_group(p["application_name"], svc["name"]))]))
        absent = [r for r in _lab.event_rules(pipeline["name"]) if r not in pipeline["rules"]]
        if absent:
            problems.append("%s has no change detection rule %s" % (pipeline["name"], ", ".join(absent)))
    if not lab["artifact_bucket"]["exists"]:
        missing.append("artifact bucket %s does not exist" % lab["artifact_bucket"]["name"])
    items.append(_item("8.2", "pipelines, artifact bucket and change detection", problems, missing))
    items.extend(phase9_items(services, lab))
    return items


def phase9_items(services, lab):
    """Tasks 9.1 and 9.4 where the services ask them (playbooks/phase9.yml's settings): the admin pages limited to
    a service's source_cidrs on both listeners, a service's desired_count."""
    items = []
    limited = [svc for svc in services if svc.get("source_cidrs")]
    if limited:
        missing, problems = [], []
        for svc in limited:
            for role, have in sorted(lab["sources"][svc["name"]].items()):
                if have is None:
                    missing.append("the %s listener does not route %s" % (role, svc["name"]))
                elif sorted(have) != sorted(svc["source_cidrs"]):
                    problems.append("the %s listener's rule %s lets %s through, not only %s" % (
                        role, svc["path_pattern"], ",".join(have) or "every address", ",".join(svc["source_cidrs"])))
        items.append(_item("9.1", "%s limited to %s" % (", ".join(s["path_pattern"] for s in limited),
                                                        ", ".join(limited[0]["source_cidrs"])), problems, missing))
    for svc in services:
        if svc.get("desired_count") is None:
            continue
        found, name = lab["ecs_services"][svc["name"]], _lab.ecs_service(svc["name"])
        missing = [] if found["exists"] else ["ECS service %s is not on cluster %s" % (name, lab["cluster"]["name"])]
        problems = [] if missing else _compare("%s desired count" % name, found.get("desired_count"),
                                               svc["desired_count"])
        items.append(_item("9.4", "ECS service %s scaled to %d" % (name, svc["desired_count"]), problems, missing))
    return items


def report_lines(items, lab):
    """The checklist and where the lab stands, as lines a person reads."""
    lines = []
    for item in items:
        lines.append("[%-7s] %s %s" % (item["state"], item["task"], item["title"]))
        lines.extend("            - %s" % d for d in item["details"])
    for name in lab["services"]:
        where = lab["addresses"].get(name) or {}
        route = lab["live"].get(name) or {}
        shown = ", ".join("%s %s -> %s" % (role, where[role], "+".join(
            "%s(%s)" % (g, w) if len(route.get(role) or {}) > 1 else g for g, w in sorted((route.get(role) or {}).items()))
            or "-") for role in sorted(where))
        lines.append("%s: %s" % (name, shown or "no load balancer yet"))
    for d in lab["deployments_in_progress"]:
        lines.append("deployment in progress: %s %s (%s)" % (d["service"], d["id"], d["status"]))
    if not lab["deployments_in_progress"]:
        lines.append("no deployment in progress")
    return lines
