"""Method `docker` end to end, and how `auto` chooses: a real Docker engine whose
images are read through its API and pushed through the local cloud's ECR API."""
import json
import os
import subprocess
import sys

import pytest

from localcloud.testing import require_binary

from helpers import run_playbook

PLAYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plays")

PUSH = os.path.join(PLAYS, "push.yml")
SERVICES = ("customer", "employee")


@pytest.fixture(scope="module")
def docker_images(dockerd, build):
    """customer:latest and employee:latest built from examples/ by build.py, once per module."""
    require_binary("busybox")
    return {name: build.docker_build(name, env=dockerd) for name in SERVICES}


@pytest.fixture
def engine(cloud, dockerd, docker_images):
    """The engine's environment (DOCKER_HOST, DOCKER_CONFIG), on a clean local cloud."""
    return {k: v for k, v in dockerd.items() if k.startswith("DOCKER_")}


def _docker(env, *args):
    proc = subprocess.run(["docker"] + list(args), env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _push(cloud, env, method, **kwargs):
    extra_vars = {"microservices": [{"name": n} for n in SERVICES], "image_push_method": method}
    extra_vars.update(kwargs.pop("extra_vars", {}))
    return run_playbook(cloud, PUSH, extra_vars=extra_vars, env=env, **kwargs)


def _tasks(result):
    """Host results of every task, in order, from the JSON callback."""
    data = json.loads(result.stdout[result.stdout.index("{"):])
    return [task["hosts"]["localhost"] for play in data["plays"] for task in play["tasks"]]


def _pushed(result):
    """The result of the one ecr_image_push run."""
    (found,) = [r for r in _tasks(result) if r.get("action") == "cloudlab.microservices.ecr_image_push"]
    return found


def _module_runs(result):
    controller = ("ansible.builtin.set_fact", "ansible.builtin.debug", "ansible.builtin.validate_argument_spec",
                  "ansible.builtin.include_role", "cloudlab.microservices.preflight")
    return [r.get("action") for r in _tasks(result) if r.get("action") not in controller]


def _summary(result):
    """What push.yml's last task prints: {'uris': ..., 'registry': ..., 'digests': image_push_digests}."""
    return json.loads(_tasks(result)[-1]["msg"].split(" ", 1)[1])


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


def _config_of_latest(cloud, name):
    """Digest of the config blob of what ECR holds under latest: the image id Docker gave it."""
    image = cloud.client("ecr").batch_get_image(repositoryName=name, imageIds=[{"imageTag": "latest"}])["images"][0]
    return json.loads(image["imageManifest"])["config"]["digest"]


def _image_id(env, ref):
    return _docker(env, "image", "inspect", "--format", "{{.Id}}", ref).strip()


def test_docker_push_then_push_again_changes_nothing(cloud, engine):
    first = _push(cloud, engine, "docker")
    assert first.rc == 0, first
    pushed = _pushed(first)
    assert pushed["method"] == "docker"
    assert sorted(i["repository"] for i in pushed["images"] if i["changed"]) == sorted(SERVICES)
    # One module run pushes both images and checks the listing: the role runs no other module.
    assert _module_runs(first) == ["cloudlab.microservices.ecr_repository", "cloudlab.microservices.ecr_image_push"]

    listed = _listed(cloud)
    assert pushed["listed"] == listed == pushed["digests"] == _summary(first)["digests"]
    for name in SERVICES:
        # What ECR holds is the engine's image: same config, that is the same image id.
        assert _config_of_latest(cloud, name) == _image_id(engine, "%s:latest" % name)

    # Same images again, and `auto` sees the engine: nothing to read, nothing to push.
    second = _push(cloud, engine, "auto")
    assert second.rc == 0, second
    again = _pushed(second)
    assert again["method"] == "docker", "auto did not choose docker with an engine"
    assert second.stats()["localhost"]["changed"] == 0, second
    assert again["bytes_sent"] == 0 and again["layers_uploaded"] == 0
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
    images = {i["repository"]: i for i in _pushed(result)["images"]}
    assert images["customer"]["changed"] and not images["employee"]["changed"]
    assert images["employee"]["layers_uploaded"] == []
    # The busybox layer is shared with v1: only the service's layer and the config go up.
    assert len(images["customer"]["layers_uploaded"]) == 2, images["customer"]
    after = _listed(cloud)
    assert after["employee"] == before["employee"]
    assert after["customer"] != before["customer"]
    assert _config_of_latest(cloud, "customer") == _image_id(engine, "customer:v2")
    assert _summary(result)["digests"] == after


def test_docker_check_mode_predicts_the_push_and_pushes_nothing(cloud, engine):
    result = _push(cloud, engine, "docker", check=True, diff=True)
    assert result.rc == 0, result
    predicted = _pushed(result)
    assert sorted(i["repository"] for i in predicted["images"] if i["changed"]) == sorted(SERVICES)
    assert all(d and d.startswith("sha256:") for d in predicted["digests"].values())
    assert predicted["diff"]["before"] == {"%s:latest" % n: None for n in SERVICES}
    # Nothing reached ECR, and the engine's tags are left alone.
    assert cloud.client("ecr").describe_repositories()["repositories"] == []

    # The prediction is what the push then does; once pushed, check mode predicts nothing.
    pushed = _push(cloud, engine, "docker")
    assert pushed.rc == 0, pushed
    assert _pushed(pushed)["digests"] == predicted["digests"]
    again = _push(cloud, engine, "docker", check=True)
    assert again.rc == 0, again
    assert again.stats()["localhost"]["changed"] == 0, again


def test_missing_local_image_is_refused_before_any_repository_exists(cloud, engine):
    result = _push(cloud, engine, "docker", extra_vars={
        "microservices": [{"name": "customer", "image": "nosuchimage:1"}, {"name": "employee"}]})
    assert result.rc != 0
    msg = " ".join(result.output.split())
    assert ("Failed to validate the image_push role's inputs: service customer: the Docker image nosuchimage:1 "
            "is not in the engine at") in msg
    assert "set the `image` key of its entry in microservices" in msg
    assert "employee" not in msg.split("nosuchimage:1", 1)[1].split('"', 1)[0]
    assert cloud.client("ecr").describe_repositories()["repositories"] == []


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
    assert _pushed(result)["method"] == "archive"
    listed = _listed(cloud)
    assert None not in listed.values()
    assert _summary(result)["digests"] == listed
