"""The ECR password never reaches the output, even at -vvv.

No role of this collection logs in to a registry any more (images go up
through the ECR API), but the modules still call GetAuthorizationToken to
learn the registry's host: the token must be dropped, never returned.
"""
import base64
import os

import pytest

from helpers import run_playbook

PLAYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plays")


@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
def test_ecr_password_is_never_printed(cloud, archives, check):
    token = cloud.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().partition(":")[2]
    assert password
    # In check mode no repository exists yet: ecr_repository reads the registry from the token call.
    result = run_playbook(cloud, os.path.join(PLAYS, "push.yml"), json_output=False, verbosity=3, check=check,
                          extra_vars={"microservices": [{"name": "customer", "archive": archives["customer"]}],
                                      "image_push_method": "archive"})
    assert result.rc == 0, result
    assert "AnsiballZ_ecr_image_push" in result.output, result
    assert password not in result.output
    assert token not in result.output
