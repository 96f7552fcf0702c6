"""ecr_image_info and ecr_login on the shared module code, against the local cloud."""
import base64
import json
import os

from helpers import run_playbook

PLAYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plays")


def test_image_info_and_login(cloud, archives):
    ecr = cloud.client("ecr")
    for name in ("customer", "employee"):
        ecr.create_repository(repositoryName=name)
    pushed = run_playbook(cloud, os.path.join(PLAYS, "push_module.yml"), extra_vars={
        "images": [{"repository": "customer", "source": archives["customer"]}]})
    assert pushed.rc == 0, pushed

    result = run_playbook(cloud, os.path.join(PLAYS, "info.yml"), verbosity=3)
    assert result.rc == 0, result
    token = ecr.get_authorization_token()["authorizationData"][0]
    assert base64.b64decode(token["authorizationToken"]).decode().partition(":")[2] not in result.output
    msg = [line for line in result.output.splitlines() if "ECR_INFO" in line][0]
    shown = json.loads(json.loads("{%s}" % msg.strip().rstrip(","))["msg"].split(" ", 1)[1])
    listed = ecr.describe_images(repositoryName="customer", imageIds=[{"imageTag": "latest"}])["imageDetails"]
    assert shown["digests"] == {"customer": listed[0]["imageDigest"], "employee": None, "nosuchrepo": None}
    assert shown["registry"] == token["proxyEndpoint"].split("://", 1)[1]
    assert shown["user"] == "AWS" and shown["has_password"] is True
