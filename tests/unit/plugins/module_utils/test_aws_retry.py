"""The collection's one retry policy (module_utils/_aws.py): what is retried, how long it waits, and that every
client gets it in place of botocore's own handler. That it rides out the local cloud's throttling, 503s and
dropped connections on every service family is tests/integration/retry's; the static check below makes sure
no module builds a client around it.
"""
import ast
import os
import re

import boto3
import botocore.exceptions
import pytest

from helpers import ROOT
from botocore.config import Config

from ansible_collections.cloudlab.microservices.plugins.module_utils import _aws as aws


class Http:
    def __init__(self, status):
        self.status_code = status


def answer(status, code):
    return Http(status), {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {}}


@pytest.mark.parametrize("status,code", [
    (400, "Throttling"),             # ELBv2, CloudFormation, IAM, STS, RDS
    (400, "ThrottlingException"),    # ECS, ECR, CodeDeploy, CodePipeline, CodeCommit, EventBridge
    (503, "RequestLimitExceeded"),   # EC2
    (503, "SlowDown"),               # S3
    (400, "TooManyRequestsException"),
    (503, "ServiceUnavailable"),
    (500, "InternalFailure"),
    (502, ""),
    (504, "GatewayTimeout"),
    (500, "ServerException"),        # ECS
])
def test_throttling_and_server_errors_are_retried(status, code):
    assert aws.retryable(answer(status, code), None)


@pytest.mark.parametrize("status,code", [
    (400, "ValidationError"), (400, "AccessDeniedException"), (400, "ClientException"),
    (400, "LoadBalancerNotFound"), (409, "ResourceInUse"), (200, ""),
    (501, "InternalFailure"),        # LocalStack's API of a paid service: not there, not transient
])
def test_refusals_are_not_retried(status, code):
    assert not aws.retryable(answer(status, code), None)


def test_connection_errors_are_retried_other_errors_not():
    assert aws.retryable(None, botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"))
    assert aws.retryable(None, botocore.exceptions.ConnectionClosedError(endpoint_url="http://x"))
    assert aws.retryable(None, botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"))
    assert not aws.retryable(None, ValueError("not a connection"))


def test_waits_are_bounded_below_and_above():
    shortest = sum(aws.delay(n, rand=lambda: 0.0) for n in range(1, aws.ATTEMPTS))
    longest = sum(aws.delay(n, rand=lambda: 1.0) for n in range(1, aws.ATTEMPTS))
    # An outage of 30 s is ridden out whatever the jitter; a call that keeps failing ends within about a minute.
    assert 30 < shortest < longest <= 65
    assert aws.delay(1, rand=lambda: 0.0) == aws.BASE_DELAY / 2
    assert aws.delay(40, rand=lambda: 1.0) == aws.MAX_DELAY


def test_the_policy_gives_up_after_its_attempts_saying_so():
    policy = aws.RetryPolicy(attempts=4, rand=lambda: 1.0)
    throttled = answer(400, "Throttling")
    assert [policy(attempts=n, response=throttled) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert policy(attempts=4, response=throttled) is None
    assert throttled[1]["ResponseMetadata"]["MaxAttemptsReached"] is True
    assert policy(attempts=1, response=answer(400, "ValidationError")) is None


def handlers(conn):
    """The needs-retry handlers of a client that decide (adaptive mode's rate limiter only measures)."""
    name = conn.meta.service_model.service_id.hyphenize()
    found = conn.meta.events._emitter._handlers.prefix_search("needs-retry.%s" % name)
    return [h for h in found if type(getattr(h, "__self__", None)).__name__ != "ClientRateLimiter"]


@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
def test_the_policy_replaces_botocore_handler(mode):
    conn = boto3.client("elbv2", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b",
                        config=Config(retries={"mode": mode}))
    aws.with_retry_policy(conn)
    found = handlers(conn)
    assert [type(h).__name__ for h in found] == ["RetryPolicy"]
    assert found[0].attempts == aws.ATTEMPTS


def test_a_users_max_attempts_wins(monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    conn = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    (policy,) = handlers(aws.with_retry_policy(conn))
    assert policy.attempts == 3


def test_no_module_builds_a_client_around_the_policy():
    """Every client comes from _aws.client(): no module.client(), boto3 client or AWSRetry in plugins/."""
    offenders = []
    for folder in ("modules", "module_utils", "action", "filter"):
        base = os.path.join(ROOT, "plugins", folder)
        for name in sorted(os.listdir(base)):
            if not name.endswith(".py"):
                continue
            with open(os.path.join(base, name)) as handle:
                text = handle.read()
            text = text.replace(ast.get_docstring(ast.parse(text), clean=False) or "\0", "")
            if name == "_aws.py":
                text = text.replace("module.client(service)", "")
            for pattern in (r"\bmodule\.client\(", r"boto3\.client\(", r"\.resource\(", r"AWSRetry", r"aws_retry",
                            r"retry_decorator", r"session\.client\("):
                if re.search(pattern, text):
                    offenders.append("%s/%s: %s" % (folder, name, pattern))
    assert offenders == []
