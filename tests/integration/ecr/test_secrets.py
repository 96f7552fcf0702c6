"""The ECR password never reaches the output, even at -vvv."""
import base64
import os

from conftest import run_playbook

from .conftest import PLAYS


def test_ecr_password_is_never_printed(cloud, dockerd):
    token = cloud.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().partition(":")[2]
    assert password
    # Method docker at -vvv with the default (verbose) callback: ecr_login and
    # docker_login both run with the password; whether the login or the push then
    # works depends on the registry the local cloud serves, not on this test.
    result = run_playbook(cloud, os.path.join(PLAYS, "push.yml"), json_output=False, verbosity=3,
                          extra_vars={"microservices": [{"name": "customer"}], "image_push_method": "docker"},
                          env={k: v for k, v in dockerd.items() if k.startswith("DOCKER_")})
    assert "Get the ECR registry credentials" in result.output, result
    assert "Log Docker in to the ECR registry" in result.output, result
    assert password not in result.output
    assert token not in result.output
