"""Fixtures of the end-to-end suite: the lab's starting point on the local
cloud, the sample image archives, and what to read back from the cloud."""
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from examples import build

from conftest import ROOT, clear_faults, require_binary, run_playbook, shown_summary

PHASE5 = "playbooks/phase5.yml"
DESTROY = "playbooks/phase5_destroy.yml"
LAB = "playbooks/lab_environment.yml"
SERVICES = ("customer", "employee")
FAMILIES = tuple("%s-microservice" % name for name in SERVICES)


@pytest.fixture(scope="session")
def archives(tmp_path_factory):
    """OCI archives of the sample services, as `make images` writes them: (folder, {name: digest})."""
    require_binary("busybox")
    out = tmp_path_factory.mktemp("images")
    digests = {}
    for name in SERVICES:
        digests[name] = build.build_archive(name, str(out / ("%s.oci.tar" % name)), busybox=shutil.which("busybox"))
    return str(out), digests


@pytest.fixture(scope="module")
def lab(local_cloud):
    """The session's local cloud, emptied, holding only what an AWS Academy lab has."""
    require_binary("git")
    local_cloud.reset()
    clear_faults(local_cloud)
    result = run_playbook(local_cloud, LAB, json_output=False)
    assert result.rc == 0, result
    yield local_cloud
    clear_faults(local_cloud)


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


def summary(result):
    """The `phase5_summary` that phase5.yml shows last."""
    return shown_summary(result, "phase5_summary")


def git(*args, cwd=None):
    return subprocess.run(["git"] + list(args), cwd=cwd, check=True, capture_output=True, text=True).stdout


def clone_url(cloud, name="deployment"):
    return cloud.client("codecommit").get_repository(repositoryName=name)["repositoryMetadata"]["cloneUrlHttp"]


def dev_commits(cloud, workdir, name="deployment"):
    """Commits of branch dev in the CodeCommit repository, read by a fresh clone."""
    dest = os.path.join(str(workdir), "clone-%d" % len(os.listdir(str(workdir))))
    git("clone", "--quiet", "--branch", "dev", clone_url(cloud, name), dest)
    return dest, git("rev-list", "dev", cwd=dest).split()


def requests_seen(cloud):
    with urllib.request.urlopen(cloud.endpoint + "/_localcloud/requests", timeout=10) as resp:
        return json.load(resp)
