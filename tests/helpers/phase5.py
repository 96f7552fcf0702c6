"""What the Phase 5 playbooks' tests share: the playbooks, the sample services, a run's extra vars inside a
test's folder, and what to read back from the cloud (Phase 5's resources, the commits on dev)."""
import os

from helpers import git

PHASE5 = "playbooks/phase5.yml"
DESTROY = "playbooks/phase5_destroy.yml"
SERVICES = ("customer", "employee")
FAMILIES = tuple("%s-microservice" % name for name in SERVICES)


def phase5_vars(workdir, archives, **extra):
    """Extra vars of a phase5 run that stays inside `workdir` (no ~/deployment)."""
    data = {
        "image_push_method": "archive",
        "image_push_archive_dir": archives[0],
        "taskdef_appspec_dir": os.path.join(str(workdir), "deployment"),
    }
    data.update(extra)
    return data


def snapshot(cloud):
    """What Phase 5 can create, as the cloud lists it."""
    ecr = cloud.client("ecr")
    repos = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    images = {}
    for repo in repos:
        images[repo] = sorted(
            (i.get("imageDigest"), tuple(sorted(i.get("imageTags", []))))
            for i in ecr.describe_images(repositoryName=repo)["imageDetails"])
    stacks = sorted(
        (s["StackName"], s["StackStatus"])
        for s in cloud.client("cloudformation").list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE")
    ecs = cloud.client("ecs")
    clusters = sorted(ecs.list_clusters()["clusterArns"])
    taskdefs = sorted(ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"])
    codecommit = sorted(r["repositoryName"] for r in cloud.client("codecommit").list_repositories()["repositories"])
    return {"ecr": repos, "images": images, "stacks": stacks, "clusters": clusters,
            "task_definitions": taskdefs, "codecommit": codecommit}


def clone_url(cloud, name="deployment"):
    return cloud.client("codecommit").get_repository(repositoryName=name)["repositoryMetadata"]["cloneUrlHttp"]


def dev_commits(cloud, workdir, name="deployment"):
    """Commits of branch dev in the CodeCommit repository, read by a fresh clone."""
    dest = os.path.join(str(workdir), "clone-%d" % len(os.listdir(str(workdir))))
    git("clone", "--quiet", "--branch", "dev", clone_url(cloud, name), dest)
    return dest, git("rev-list", "dev", cwd=dest).split()
