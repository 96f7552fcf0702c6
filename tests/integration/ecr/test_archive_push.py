"""Method `archive`: images pushed through the ECR API of the local cloud."""
import hashlib
import io
import json
import os
import shutil
import tarfile

import pytest

from helpers import run_playbook

PLAYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plays")

PUSH = os.path.join(PLAYS, "push.yml")


def _push(cloud, archives, **extra):
    services = [{"name": n, "archive": p} for n, p in sorted(archives.items())]
    extra_vars = {"microservices": services, "image_push_method": "archive"}
    extra_vars.update(extra.pop("extra_vars", {}))
    return run_playbook(cloud, PUSH, extra_vars=extra_vars, verbosity=extra.pop("verbosity", 1), **extra)


def _results(result, action="cloudlab.microservices.ecr_image_push"):
    """Results of the tasks that ran this action, from the JSON callback."""
    data = json.loads(result.stdout[result.stdout.index("{"):])
    found = []
    for play in data["plays"]:
        for task in play["tasks"]:
            if task["hosts"]["localhost"].get("action") == action:
                found.append(task["hosts"]["localhost"])
    return found


def _manifest_digest(path):
    with tarfile.open(path) as tar:
        index = json.load(tar.extractfile("index.json"))
    return index["manifests"][0]["digest"]


def test_push_then_push_again_changes_nothing(cloud, archives):
    first = _push(cloud, archives)
    assert first.rc == 0, first
    pushed = _results(first)[0]
    assert pushed["changed"] is True
    assert pushed["bytes_sent"] > 0
    for name, path in archives.items():
        assert pushed["digests"][name] == _manifest_digest(path)
    ecr = cloud.client("ecr")
    for name, path in archives.items():
        listed = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": "latest"}])["imageDetails"]
        assert listed[0]["imageDigest"] == _manifest_digest(path)

    second = _push(cloud, archives)
    assert second.rc == 0, second
    assert second.stats()["localhost"]["changed"] == 0, second
    again = _results(second)[0]
    assert again["changed"] is False
    assert again["bytes_sent"] == 0
    assert again["layers_uploaded"] == 0


def test_check_mode_predicts_and_pushes_nothing(cloud, archives):
    ecr = cloud.client("ecr")
    result = _push(cloud, archives, check=True)
    assert result.rc == 0, result
    predicted = _results(result)[0]
    assert predicted["changed"] is True
    assert predicted["bytes_sent"] == sum(os.path.getsize(p) for p in archives.values()) - _tar_overhead(archives)
    assert ecr.describe_repositories()["repositories"] == []


def _tar_overhead(archives):
    """Bytes of an archive that are not blobs referenced by the manifest (index, layout, headers)."""
    total = 0
    for path in archives.values():
        with tarfile.open(path) as tar:
            blobs = sum(m.size for m in tar.getmembers() if m.name.startswith("blobs/"))
            manifest = json.load(tar.extractfile("index.json"))["manifests"][0]["size"]
        total += os.path.getsize(path) - (blobs - manifest)
    return total


def test_one_changed_layer_uploads_only_that_layer(cloud, archives, build, tmp_path):
    assert _push(cloud, archives).rc == 0
    service = tmp_path / "customer"
    shutil.copytree(os.path.join(os.path.dirname(build.__file__), "customer"), service)
    (service / "www" / "index.html").write_text("<h1>customer microservice, version 2</h1>\n")
    changed = dict(archives, customer=str(tmp_path / "customer-v2.oci.tar"))
    build.build_archive("customer", changed["customer"], service_dir=str(service), busybox=shutil.which("busybox"))

    result = _push(cloud, changed)
    assert result.rc == 0, result
    images = {i["repository"]: i for i in _results(result)[0]["images"]}
    assert images["employee"]["changed"] is False
    assert images["employee"]["layers_uploaded"] == []
    customer = images["customer"]
    with tarfile.open(changed["customer"]) as tar:
        index = json.load(tar.extractfile("index.json"))
        manifest = json.load(tar.extractfile("blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]))
    base_layer, app_layer = [layer["digest"] for layer in manifest["layers"]]
    # The busybox layer is already there; the new service layer and config go up.
    assert base_layer in customer["layers_skipped"]
    assert sorted(customer["layers_uploaded"]) == sorted([app_layer, manifest["config"]["digest"]])
    assert customer["bytes_sent"] == manifest["layers"][1]["size"] + manifest["config"]["size"]


def test_manifest_round_trips_through_batch_get_image(cloud, archives):
    assert _push(cloud, archives).rc == 0
    ecr = cloud.client("ecr")
    for name, path in archives.items():
        with tarfile.open(path) as tar:
            digest = _manifest_digest(path)
            sent = tar.extractfile("blobs/sha256/" + digest.split(":")[1]).read()
        image = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "latest"}])["images"][0]
        assert image["imageManifest"].encode() == sent
        assert "sha256:" + hashlib.sha256(image["imageManifest"].encode()).hexdigest() == digest


def test_small_parts_upload_in_several_parts(cloud, archives):
    """part_size below the layer size: the layer goes up in parts and still matches its digest."""
    ecr = cloud.client("ecr")
    ecr.create_repository(repositoryName="customer")
    result = run_playbook(cloud, os.path.join(PLAYS, "push_module.yml"), extra_vars={
        "images": [{"repository": "customer", "source": archives["customer"]}], "part_size": 65536})
    assert result.rc == 0, result
    digest = _manifest_digest(archives["customer"])
    assert ecr.describe_images(repositoryName="customer")["imageDetails"][0]["imageDigest"] == digest


def _random_bytes(path):
    with open(path, "wb") as handle:
        handle.write(os.urandom(4096))


@pytest.mark.parametrize("damage", ["missing", "random_bytes", "not_an_image", "truncated", "default_dir"])
def test_bad_archive_is_refused_before_any_repository_exists(cloud, archives, tmp_path, damage):
    """Issue 10 item 5: the preflight reads every archive's index and manifests on the controller."""
    (tmp_path / "bad").mkdir()
    bad = str(tmp_path / "bad" / "customer.oci.tar")
    extra = {}
    variable = "set the `archive` key of its entry in microservices"
    if damage == "random_bytes":
        _random_bytes(bad)
        expected = "is not a readable tar archive"
    elif damage == "not_an_image":
        with tarfile.open(bad, "w") as dst:
            dst.add(__file__, arcname="hello.py")
        expected = "is not a container image"
    elif damage == "truncated":
        with open(archives["customer"], "rb") as src:
            open(bad, "wb").write(src.read()[:700])
        expected = "customer.oci.tar"
    elif damage == "default_dir":
        # No `archive` key: <image_push_archive_dir>/customer.oci.tar, random bytes.
        _random_bytes(bad)
        expected = "is not a readable tar archive"
        variable = "set image_push_archive_dir, or the `archive` key of its entry"
        extra = {"image_push_archive_dir": str(tmp_path / "bad")}
    else:
        expected = "does not exist"
    services = [{"name": "customer", "archive": bad}, {"name": "employee", "archive": archives["employee"]}]
    if damage == "default_dir":
        services[0] = {"name": "customer"}
    result = run_playbook(cloud, PUSH, extra_vars=dict(extra, microservices=services, image_push_method="archive"))
    assert result.rc != 0
    msg = " ".join(result.output.split())
    line = "Failed to validate the image_push role's inputs: service customer: bad image archive: %s" % bad
    assert line in msg, msg
    assert expected in msg and variable in msg and "make images" in msg
    assert "employee" not in msg.split(line, 1)[1].split('"', 1)[0]
    # Refused before ecr_repos created anything.
    assert cloud.client("ecr").describe_repositories()["repositories"] == []
    assert _results(result, "cloudlab.microservices.ecr_repository") == []


def test_corrupt_layer_fails_in_the_module_and_pushes_nothing(cloud, archives, tmp_path):
    """A flipped bit inside a layer: the index and manifests read fine (preflight), the blob hash does not."""
    bad = str(tmp_path / "bad.tar")
    with tarfile.open(archives["employee"]) as src, tarfile.open(bad, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if data and member.size > 100000:
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    result = _push(cloud, dict(archives, employee=bad))
    assert result.rc != 0
    assert "Failed to read image for repository employee" in result.output
    assert "is corrupt" in result.output
    ecr = cloud.client("ecr")
    # The good archive listed first was not pushed either.
    for name in ("customer", "employee"):
        assert ecr.describe_images(repositoryName=name)["imageDetails"] == []
