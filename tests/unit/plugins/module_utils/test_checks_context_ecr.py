"""Input rules of aws_context, ecr_repos and image_push (plugins/module_utils/_checks)."""
import hashlib
import json
import os
import tarfile

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import aws_context
from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import ecr_repos
from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import image_push
from ansible_collections.cloudlab.microservices.plugins.module_utils._docker_engine import Engine
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import check_services

CONTEXT = {"aws_context_vpc_name": "LabVPC", "aws_context_subnet_names": ["PublicSubnet1", "PublicSubnet2"],
           "aws_context_pipeline_role_name": "PipelineRole", "aws_context_deploy_role_name": "DeployRole",
           "aws_context_db_instance": "supplierdb"}


def test_aws_context_defaults_pass():
    assert aws_context.check(CONTEXT) == []


@pytest.mark.parametrize("change, expected", [
    ({"aws_context_vpc_name": "  "}, "aws_context_vpc_name is empty"),
    ({"aws_context_subnet_names": []}, "aws_context_subnet_names is empty"),
    ({"aws_context_subnet_names": ["A", " "]}, "aws_context_subnet_names has an empty name"),
    ({"aws_context_subnet_names": ["A", "B", "A"]}, "aws_context_subnet_names names A more than once"),
    ({"aws_context_pipeline_role_name": ""}, "aws_context_pipeline_role_name is ''"),
    ({"aws_context_pipeline_role_name": "a/b"}, "aws_context_pipeline_role_name is 'a/b'"),
    ({"aws_context_deploy_role_name": "x" * 65}, "aws_context_deploy_role_name is 'xxx"),
    ({"aws_context_db_instance": "supplier--db"}, "aws_context_db_instance is 'supplier--db'"),
    ({"aws_context_db_instance": "1db"}, "aws_context_db_instance is '1db'"),
])
def test_aws_context_refuses(change, expected):
    problems = aws_context.check(dict(CONTEXT, **change))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


@pytest.mark.parametrize("change", [{"aws_context_deploy_role_name": ""}, {"aws_context_db_instance": ""}])
def test_aws_context_empty_skips_a_lookup(change):
    assert aws_context.check(dict(CONTEXT, **change)) == []


ECR = {"ecr_repos_untagged_keep": 10, "ecr_repos_account_id": "", "ecr_repos_partition": "",
       "ecr_repos_tags": {"Project": "microservices"}}


@pytest.mark.parametrize("change, expected", [
    ({}, None),
    ({"ecr_repos_account_id": "123456789012", "ecr_repos_partition": "aws-us-gov"}, None),
    ({"ecr_repos_untagged_keep": 0}, "ecr_repos_untagged_keep is 0"),
    ({"ecr_repos_account_id": "1234"}, "ecr_repos_account_id is '1234'"),
    ({"ecr_repos_partition": "amazon"}, "ecr_repos_partition is 'amazon'"),
    ({"ecr_repos_tags": dict(("k%d" % i, "v") for i in range(51))}, "ecr_repos_tags has 51 tags"),
])
def test_ecr_repos(change, expected):
    problems = ecr_repos.check(dict(ECR, **change), check_services([{"name": "customer"}]))
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(expected), problems


def _oci_archive(path):
    """The smallest OCI archive: a config, a layer, a manifest, an index."""
    blobs = {}

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    config = dict(blob(b'{"architecture":"amd64","os":"linux"}'), mediaType="application/vnd.oci.image.config.v1+json")
    layer = dict(blob(b"layer"), mediaType="application/vnd.oci.image.layer.v1.tar")
    manifest = dict(blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                     "config": config, "layers": [layer]}).encode()),
                    mediaType="application/vnd.oci.image.manifest.v1+json")
    files = dict(("blobs/sha256/" + d.split(":")[1], data) for d, data in blobs.items())
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [manifest]}).encode()
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, __import__("io").BytesIO(data))
    return path


NO_ENGINE = Engine("unix:///nonexistent/docker.sock")


def _push_values(tmp_path, method="archive", **change):
    return dict({"image_push_tag": "latest", "image_push_method": method, "image_push_verify_timeout": 30,
                 "image_push_archive_dir": str(tmp_path)}, **change)


def test_image_push_good_archives_pass(tmp_path):
    _oci_archive(str(tmp_path / "customer.oci.tar"))
    own = _oci_archive(str(tmp_path / "elsewhere.tar"))
    services = check_services([{"name": "customer"}, {"name": "employee", "archive": own}])
    assert image_push.check(_push_values(tmp_path), services) == []
    # auto without an engine is archive.
    assert image_push.check(_push_values(tmp_path, "auto"), services, engine=NO_ENGINE) == []


def test_image_push_random_bytes_name_the_service_file_and_variable(tmp_path):
    (tmp_path / "customer.oci.tar").write_bytes(os.urandom(2048))
    services = check_services([{"name": "customer"}])
    (problem,) = image_push.check(_push_values(tmp_path), services)
    path = str(tmp_path / "customer.oci.tar")
    assert problem.startswith("service customer: bad image archive: %s is not a readable tar archive" % path)
    assert problem.endswith("or set image_push_archive_dir, or the `archive` key of its entry in microservices")
    assert "\n" not in problem


def test_image_push_missing_and_non_image_archives(tmp_path):
    not_image = str(tmp_path / "not-image.tar")
    with tarfile.open(not_image, "w") as tar:
        tar.add(__file__, arcname="hello.py")
    services = check_services([{"name": "customer", "archive": not_image},
                               {"name": "employee", "archive": str(tmp_path / "none.tar")}])
    problems = image_push.check(_push_values(tmp_path, "auto"), services, engine=NO_ENGINE)
    assert len(problems) == 2
    assert "service customer: bad image archive: %s is not a container image" % not_image in problems[0]
    assert "service employee: bad image archive: %s does not exist" % (tmp_path / "none.tar") in problems[1]
    assert problems[1].endswith("set the `archive` key of its entry in microservices")


def test_image_push_docker_without_an_engine(tmp_path):
    (problem,) = image_push.check(_push_values(tmp_path, "docker"), check_services([{"name": "customer"}]),
                                  engine=NO_ENGINE)
    assert problem.startswith("image_push_method is docker but no Docker engine answers at "
                              "unix:///nonexistent/docker.sock")


@pytest.mark.parametrize("change, expected", [
    ({"image_push_tag": "-bad"}, "image_push_tag is '-bad'"),
    ({"image_push_tag": "x" * 129}, "image_push_tag is 'xxx"),
    ({"image_push_verify_timeout": -1}, "image_push_verify_timeout is -1"),
])
def test_image_push_values(tmp_path, change, expected):
    _oci_archive(str(tmp_path / "customer.oci.tar"))
    problems = image_push.check(_push_values(tmp_path, **change), check_services([{"name": "customer"}]))
    assert len(problems) == 1 and problems[0].startswith(expected), problems
