"""What a running local cloud holds, and what of it a stop loses: `localcloud stop` (`make cloud-down`) says it.

moto keeps its resources in memory, and so do the pipeline executions and deployments run here: they are gone
when the process stops. The ECR image store is on disk but emptied at the next start (it only makes sense next to
moto's repositories). CodeCommit repositories are bare git repositories on disk: they stay.
"""
import os

from localcloud.patches.features.pipeline_runs import executions_of
from localcloud.tasks import backends

IN_PROGRESS = ("Created", "Queued", "InProgress", "Ready", "Stopping")


def _count(service, each):
    """Sum of `each(backend)` over the service's backends; 0 for a service moto never started."""
    total = 0
    for backend in backends(service):
        total += each(backend)
    return total


def _vpcs(backend):
    return sum(1 for vpc in list(backend.vpcs.values()) if not getattr(vpc, "is_default", False))


def _active_services(backend):
    return sum(1 for service in list(backend.services.values()) if service.status == "ACTIVE")


def _active_task_definitions(backend):
    return sum(1 for revisions in list(backend.task_definitions.values()) for td in list(revisions.values())
               if td.status == "ACTIVE")


def _running_executions(backend):
    return sum(1 for runs in list(executions_of(backend).values()) for run in list(runs)
               if run.get("status") == "InProgress")


def _running_deployments(backend):
    return sum(1 for deployment in list(backend.deployments.values()) if deployment.status in IN_PROGRESS)


def _event_rules(backend):
    return sum(len(bus.rules) for bus in list(backend.event_buses.values()))


# (what, service, count in one backend): in the order a lab is built.
LOST = (
    ("CloudFormation stack", "cloudformation", lambda b: len(b.stacks)),
    ("VPC", "ec2", _vpcs),
    ("IAM role", "iam", lambda b: len(b.roles)),
    ("RDS database", "rds", lambda b: len(b.databases)),
    ("S3 bucket", "s3", lambda b: len(b.buckets)),
    ("ECR repository", "ecr", lambda b: len(b.repositories)),
    ("ECR image", "ecr", lambda b: sum(len(r.images) for r in list(b.repositories.values()))),
    ("ECS cluster", "ecs", lambda b: len(b.clusters)),
    ("ECS task definition", "ecs", _active_task_definitions),
    ("load balancer", "elbv2", lambda b: len(b.load_balancers)),
    ("target group", "elbv2", lambda b: len(b.target_groups)),
    ("ECS service", "ecs", _active_services),
    ("CodeDeploy application", "codedeploy", lambda b: len(b.applications)),
    ("pipeline", "codepipeline", lambda b: len(b.pipelines)),
    ("EventBridge rule", "events", _event_rules),
    ("pipeline execution in progress", "codepipeline", _running_executions),
    ("deployment in progress", "codedeploy", _running_deployments),
)


def _plural(count, what):
    if count == 1:
        return "1 %s" % what
    head, _, tail = what.partition(" in ")
    head = head[:-1] + "ies" if head.endswith("y") else head + "s"
    return "%d %s" % (count, head + (" in " + tail if tail else ""))


def summary(cloud):
    """{"lost": [...], "kept": [...]}: phrases ("2 ECS services") of what a stop loses and what stays on disk."""
    lost = []
    for what, service, each in LOST:
        try:
            count = _count(service, each)
        except Exception:  # a backend of another shape than this moto's: say nothing rather than fail a stop
            continue
        if count:
            lost.append(_plural(count, what))
    if cloud.tasks is not None:
        running = len(cloud.tasks.docs().get("tasks", []))
        if running:
            lost.append(_plural(running, "running task"))
    repos = sorted(entry[:-4] for entry in os.listdir(cloud.codecommit.root)
                   if entry.endswith(".git") and cloud.codecommit.exists(entry[:-4]))
    kept = ["%s (%s)" % (_plural(len(repos), "CodeCommit repository"), ", ".join(repos))] if repos else []
    return {"lost": lost, "kept": kept}
