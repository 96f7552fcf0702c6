"""Method `docker` end to end, and how `auto` chooses: a real Docker engine, the
local cloud's real registry (user AWS, ECR token), ECR's DescribeImages."""
import json
import os
import subprocess
import sys

import pytest

from conftest import require_binary, run_playbook
from .conftest import PLAYS

PUSH = os.path.join(PLAYS, "push.yml")
SERVICES = ("customer", "employee")


@pytest.fixture(scope="module")
def docker_images(dockerd, build):
    """customer:latest and employee:latest built from examples/ by build.py, once per module."""
    # The local cloud serves ECR's registry side only with docker-registry.
    require_binary("docker-registry")
    require_binary("busybox")
    return {name: build.docker_build(name, env=dockerd) for name in SERVICES}


@pytest.fixture
def engine(cloud, dockerd, docker_images):
    """The engine's environment, with no tag left in the registry's name from an earlier test."""
    registry = _registry(cloud)
    listed = _docker(dockerd, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").split()
    stale = [ref for ref in listed if ref.startswith(registry + "/") and not ref.endswith(":<none>")]
    if stale:
        _docker(dockerd, "image", "rm", *stale)
    return {k: v for k, v in dockerd.items() if k.startswith("DOCKER_")}


def _docker(env, *args):
    proc = subprocess.run(["docker"] + list(args), env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _registry(cloud):
    endpoint = cloud.client("ecr").get_authorization_token()["authorizationData"][0]["proxyEndpoint"]
    return endpoint.split("://", 1)[-1]


def _push(cloud, env, method, **kwargs):
    extra_vars = {"microservices": [{"name": n} for n in SERVICES], "image_push_method": method}
    extra_vars.update(kwargs.pop("extra_vars", {}))
    return run_playbook(cloud, PUSH, extra_vars=extra_vars, env=env, **kwargs)


def _tasks(result):
    """{task name: [host results]} from the JSON callback."""
    data = json.loads(result.stdout[result.stdout.index("{"):])
    found = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            # Role tasks are named "<role> : <name>".
            name = task["task"]["name"].rpartition(" : ")[2]
            found.setdefault(name, []).append(task["hosts"]["localhost"])
    return found


def _summary(result):
    """What push.yml's last task prints: {'uris': ..., 'digests': image_push_digests}."""
    msg = _tasks(result)["Show what the roles publish"][0]["msg"]
    return json.loads(msg.split(" ", 1)[1])


def _listed(cloud, names=SERVICES):
    """ECR's digest of tag latest per repository (None when untagged or missing)."""
    ecr = cloud.client("ecr")
    out = {}
    for name in names:
        try:
            details = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": "latest"}])["imageDetails"]
            out[name] = details[0]["imageDigest"]
        except (ecr.exceptions.ImageNotFoundException, ecr.exceptions.RepositoryNotFoundException):
            out[name] = None
    return out


def _pushed_by_docker(env, registry, name):
    """The digest Docker recorded for <registry>/<name> when it pushed."""
    digests = json.loads(_docker(env, "image", "inspect", "--format", "{{json .RepoDigests}}",
                                 "%s/%s:latest" % (registry, name)))
    return [d.split("@", 1)[1] for d in digests if d.startswith("%s/%s@" % (registry, name))]


def _ran(result, task):
    """Host results of a task that ran (not skipped)."""
    return [r for r in _tasks(result).get(task, []) if not r.get("skipped")]


def test_docker_push_then_push_again_changes_nothing(cloud, engine):
    registry = _registry(cloud)
    first = _push(cloud, engine, "docker")
    assert first.rc == 0, first
    pushes = _ran(first, "Push the images that ECR does not hold under the tag")[0]["results"]
    assert sorted(r["item"]["key"] for r in pushes if r["changed"]) == sorted(SERVICES)

    listed = _listed(cloud)
    for name in SERVICES:
        # What docker pushed is what ECR lists under latest ...
        assert listed[name] in _pushed_by_docker(engine, registry, name)
    # ... and what the role publishes (its verify step read the same).
    assert _summary(first)["digests"] == listed

    # Same images again, and `auto` sees the engine: nothing to push.
    second = _push(cloud, engine, "auto")
    assert second.rc == 0, second
    assert _ran(second, "Log Docker in to the ECR registry"), "auto did not choose docker with an engine"
    assert not _ran(second, "Push every archive through the ECR API")
    assert second.stats()["localhost"]["changed"] == 0, second
    assert not _ran(second, "Push the images that ECR does not hold under the tag")
    assert _summary(second)["digests"] == listed == _listed(cloud)


def test_docker_push_of_a_rebuilt_image_pushes_only_that_one(cloud, engine, dockerd, build, tmp_path):
    assert _push(cloud, engine, "docker").rc == 0
    before = _listed(cloud)
    service = tmp_path / "customer"
    service.mkdir()
    (service / "www").mkdir()
    (service / "www" / "index.html").write_text("<h1>customer microservice, version 2</h1>\n")
    with open(os.path.join(os.path.dirname(build.__file__), "customer", "Dockerfile")) as src:
        (service / "Dockerfile").write_text(src.read())
    build.docker_build("customer", tag="customer:v2", service_dir=str(service), env=dockerd)

    result = _push(cloud, engine, "docker", extra_vars={
        "microservices": [{"name": "customer", "image": "customer:v2"}, {"name": "employee"}]})
    assert result.rc == 0, result
    pushes = _ran(result, "Push the images that ECR does not hold under the tag")[0]["results"]
    assert [r["item"]["key"] for r in pushes if not r.get("skipped")] == ["customer"]
    after = _listed(cloud)
    assert after["employee"] == before["employee"]
    assert after["customer"] != before["customer"]
    assert after["customer"] in _pushed_by_docker(engine, _registry(cloud), "customer")
    assert _summary(result)["digests"] == after


def test_docker_check_mode_predicts_the_push_and_pushes_nothing(cloud, engine):
    registry = _registry(cloud)
    result = _push(cloud, engine, "docker", check=True)
    assert result.rc == 0, result
    predicted = _ran(result, "Predict the pushes")
    assert predicted, "check mode did not predict the pushes"
    assert sorted(r["item"]["key"] for r in predicted[0]["results"] if r["changed"]) == sorted(SERVICES)
    assert result.stats()["localhost"]["changed"] > 0
    # Nothing reached ECR, the registry or the engine's tags.
    assert cloud.client("ecr").describe_repositories()["repositories"] == []
    tags = _docker(engine, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").split()
    assert not [t for t in tags if t.startswith(registry + "/") and t.endswith(":latest")]

    # Once pushed, check mode predicts nothing.
    assert _push(cloud, engine, "docker").rc == 0
    again = _push(cloud, engine, "docker", check=True)
    assert again.rc == 0, again
    assert again.stats()["localhost"]["changed"] == 0, again


def test_docker_push_fails_clearly_without_the_local_image(cloud, engine):
    result = _push(cloud, engine, "docker", extra_vars={
        "microservices": [{"name": "customer", "image": "nosuchimage:1"}]})
    assert result.rc != 0
    assert "Failed to find the local Docker images" in result.output
    assert "nosuchimage:1" in result.output
    assert _listed(cloud, ["customer"]) == {"customer": None}


def test_demo_path_without_an_engine_builds_archives_and_auto_pushes_them(cloud, build, tmp_path):
    """What `make images` then phase5 do when no engine answers: archives, then method archive."""
    require_binary("busybox")
    no_engine = {"DOCKER_HOST": "unix://%s" % (tmp_path / "no-docker.sock")}
    out = tmp_path / "images"
    proc = subprocess.run([sys.executable, build.__file__, "--out", str(out)], capture_output=True, text=True,
                          env=dict(os.environ, **no_engine), check=False)
    assert proc.returncode == 0, proc.stderr
    assert "no engine answers" in proc.stdout
    assert sorted(os.listdir(out)) == ["%s.oci.tar" % n for n in SERVICES]

    # Entries without `archive`: the role finds <image_push_archive_dir>/<name>.oci.tar.
    result = _push(cloud, no_engine, "auto", extra_vars={"image_push_archive_dir": str(out)})
    assert result.rc == 0, result
    assert _ran(result, "Push every archive through the ECR API")
    assert not _ran(result, "Log Docker in to the ECR registry")
    listed = _listed(cloud)
    assert None not in listed.values()
    assert _summary(result)["digests"] == listed
