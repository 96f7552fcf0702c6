"""Faults on purpose (throttling, 503, dropped connections) and the request log."""
import json
import subprocess
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from localcloud.testing import require_binary


def control(cloud, method, path, doc=None):
    data = json.dumps(doc).encode() if doc is not None else (b"" if method != "GET" else None)
    req = urllib.request.Request(cloud.endpoint + "/_localcloud/" + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def client(cloud, service, attempts):
    """A client with botocore's standard retries (attempts=1: no retry)."""
    return boto3.client(service, endpoint_url=cloud.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        aws_session_token="test",
                        config=Config(retries={"mode": "standard", "total_max_attempts": attempts},
                                      connect_timeout=5, read_timeout=20))


def test_throttle_then_success_with_retries(cloud):
    status, rule = control(cloud, "POST", "faults", {"mode": "throttle", "count": 2, "match": "ListRepositories"})
    assert status == 200 and rule["remaining"] == 2
    answer = client(cloud, "codecommit", 5).list_repositories()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert answer["repositories"] == []
    # Spent: the next call goes through at once.
    assert client(cloud, "codecommit", 1).list_repositories()["ResponseMetadata"]["RetryAttempts"] == 0


def test_throttle_shape_is_what_botocore_knows(cloud):
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 1})
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client(cloud, "ecr", 1).describe_repositories()
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("service,call,code", [
    ("sts", lambda c: c.get_caller_identity(), "Throttling"),
    ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded"),
    ("cloudformation", lambda c: c.describe_stacks(), "Throttling"),
])
def test_throttle_query_protocols(cloud, service, call, code):
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 1, "match": service})
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(client(cloud, service, 1))
    assert info.value.response["Error"]["Code"] == code
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 1, "match": service})
    assert call(client(cloud, service, 3))["ResponseMetadata"]["RetryAttempts"] == 1


def test_unavailable_503(cloud):
    control(cloud, "POST", "faults", {"mode": "unavailable", "count": 1, "match": "codecommit"})
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client(cloud, "codecommit", 1).list_repositories()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    control(cloud, "POST", "faults", {"mode": "unavailable", "count": 2, "match": "codecommit"})
    assert client(cloud, "codecommit", 4).list_repositories()["ResponseMetadata"]["RetryAttempts"] == 2


def test_drop_connection(cloud):
    control(cloud, "POST", "faults", {"mode": "drop", "count": 1})
    with pytest.raises((botocore.exceptions.ConnectionClosedError,
                        botocore.exceptions.EndpointConnectionError,
                        botocore.exceptions.ReadTimeoutError)):
        client(cloud, "ecr", 1).describe_repositories()
    control(cloud, "POST", "faults", {"mode": "drop", "count": 1})
    assert client(cloud, "ecr", 3).describe_repositories()["ResponseMetadata"]["RetryAttempts"] == 1


def test_match_and_count_honoured(cloud):
    control(cloud, "POST", "faults", {"mode": "unavailable", "count": 1, "match": "codecommit.GetRepository"})
    ecr = client(cloud, "ecr", 1)
    codecommit = client(cloud, "codecommit", 1)
    ecr.describe_repositories()           # another service: untouched
    codecommit.list_repositories()        # same service, other operation: untouched
    status, state = control(cloud, "GET", "faults")
    assert [f["remaining"] for f in state["faults"]] == [1]
    with pytest.raises(botocore.exceptions.ClientError):
        codecommit.get_repository(repositoryName="deployment")
    status, state = control(cloud, "GET", "faults")
    assert state["faults"] == []  # count spent
    with pytest.raises(botocore.exceptions.ClientError) as info:
        codecommit.get_repository(repositoryName="deployment")
    assert info.value.response["Error"]["Code"] == "RepositoryDoesNotExistException"


def test_match_is_the_service_or_the_operation_only(cloud):
    """`match: codepipeline` is CodePipeline's requests, not S3's on a bucket whose name holds the word."""
    s3 = client(cloud, "s3", 1)
    bucket = "codepipeline-us-east-1-123456789012"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="codepipeline/artifact.zip", Body=b"zip")
    for match in ("codepipeline", "Pipeline", "listrepo", "CodeCommit_20150413.ListRepositories"):
        control(cloud, "POST", "faults", {"mode": "throttle", "count": 1, "match": match})
    s3.head_object(Bucket=bucket, Key="codepipeline/artifact.zip")
    s3.get_object(Bucket=bucket, Key="codepipeline/artifact.zip")["Body"].read()
    s3.list_objects_v2(Bucket=bucket, Prefix="codepipeline/")
    client(cloud, "codecommit", 1).list_repositories()
    assert [(f["match"], f["hits"]) for f in control(cloud, "GET", "faults")[1]["faults"]] == [
        ("codepipeline", 0), ("Pipeline", 0), ("listrepo", 0), ("CodeCommit_20150413.ListRepositories", 0)]
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client(cloud, "codepipeline", 1).list_pipelines()
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    control(cloud, "DELETE", "faults")
    # The operation, or service.Operation, in any case.
    elbv2 = client(cloud, "elbv2", 1)
    for match in ("createlistener", "elasticloadbalancing.DescribeLoadBalancers"):
        control(cloud, "POST", "faults", {"mode": "unavailable", "count": 1, "match": match})
    elbv2.describe_target_groups()
    for call in (lambda: elbv2.create_listener(LoadBalancerArn="arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                                               "loadbalancer/app/x/1", Port=80, Protocol="HTTP", DefaultActions=[]),
                 elbv2.describe_load_balancers):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            call()
        assert info.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert control(cloud, "GET", "faults")[1]["faults"] == []


@pytest.mark.parametrize("mode", ["standard", "legacy"])
def test_s3_throttle_is_slowdown_and_retried_on_head(cloud, mode):
    """S3 throttles with 503 SlowDown; to a HEAD that is the status alone: botocore retries it as it retries AWS's."""
    s3 = client(cloud, "s3", 1)
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="a", Body=b"a")
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 1, "match": "s3"})
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.head_object(Bucket="artifacts", Key="a")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 1, "match": "s3"})
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.get_object(Bucket="artifacts", Key="a")
    assert info.value.response["Error"]["Code"] == "SlowDown"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    retrying = boto3.client("s3", endpoint_url=cloud.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test", aws_session_token="test",
                            config=Config(retries={"mode": mode, "total_max_attempts": 4}))
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 2, "match": "s3"})
    assert retrying.head_object(Bucket="artifacts", Key="a")["ResponseMetadata"]["RetryAttempts"] == 2
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 2, "match": "s3"})
    assert retrying.head_bucket(Bucket="artifacts")["ResponseMetadata"]["RetryAttempts"] == 2
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 2, "match": "s3"})
    assert retrying.get_object(Bucket="artifacts", Key="a")["ResponseMetadata"]["RetryAttempts"] == 2


def test_duration_fault_until_cleared(cloud):
    control(cloud, "POST", "faults", {"mode": "unavailable", "seconds": 600, "match": "sts"})
    sts = client(cloud, "sts", 1)
    for _attempt in range(3):
        with pytest.raises(botocore.exceptions.ClientError):
            sts.get_caller_identity()
    status, state = control(cloud, "GET", "faults")
    assert state["faults"][0]["hits"] == 3 and state["faults"][0]["remaining"] is None
    status, state = control(cloud, "DELETE", "faults")
    assert state == {"faults": []}
    assert sts.get_caller_identity()["Account"] == "123456789012"


@pytest.mark.parametrize("rule", [{"mode": "explode", "count": 1}, {"mode": "drop"},
                                  {"mode": "drop", "count": 0}, {"mode": "drop", "count": 1, "extra": 1},
                                  {"mode": "drop", "seconds": -1}, ["drop"]])
def test_bad_fault_refused(cloud, rule):
    status, doc = control(cloud, "POST", "faults", rule)
    assert status == 400 and "bad fault" in doc["error"]
    assert control(cloud, "GET", "faults")[1] == {"faults": []}


def test_request_counting(cloud, tmp_path):
    control(cloud, "POST", "requests/reset")
    codecommit = client(cloud, "codecommit", 1)
    codecommit.create_repository(repositoryName="counted")
    codecommit.list_repositories()
    codecommit.list_repositories()
    client(cloud, "ecr", 1).describe_repositories()
    client(cloud, "sts", 1).get_caller_identity()
    require_binary("git")
    subprocess.run(["git", "clone", "-q", cloud.endpoint + "/v1/repos/counted", str(tmp_path / "c")],
                   check=True, capture_output=True)
    control(cloud, "GET", "faults")
    status, log = control(cloud, "GET", "requests")
    assert log["services"] == {
        "codecommit": {"CreateRepository": 1, "ListRepositories": 2},
        "ecr": {"DescribeRepositories": 1},
        "sts": {"GetCallerIdentity": 1},
    }
    assert log["total"] == 5
    status, log = control(cloud, "POST", "requests/reset")
    assert log["total"] == 0 and log["services"] == {}


def test_retried_calls_are_counted(cloud):
    control(cloud, "POST", "requests/reset")
    control(cloud, "POST", "faults", {"mode": "throttle", "count": 2, "match": "ecr"})
    client(cloud, "ecr", 5).describe_repositories()
    assert control(cloud, "GET", "requests")[1]["services"]["ecr"] == {"DescribeRepositories": 3}
