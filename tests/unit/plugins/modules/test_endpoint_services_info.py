"""endpoint_services_info: which answers of an endpoint mean "this service is
not there" (LocalStack's 501 for a paid service, a server error), and the
message that stops a run before any change. The probes themselves run against
LocalStack's community runtime in the molecule scenario `localstack`."""

import pytest
from botocore.exceptions import ClientError

from ansible_collections.cloudlab.microservices.plugins.module_utils import _endpoint as mod


def error(status, code, message=""):
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "ListClusters")


def test_localstack_paid_service_is_missing():
    reason = mod.classify_client_error(error(501, "InternalFailure", "The API for service ecs is either not "
                                             "included in your current license plan"))
    assert reason.startswith("HTTP 501 InternalFailure: The API for service ecs")


@pytest.mark.parametrize("status,code", [(500, "InternalError"), (400, "UnknownOperationException"),
                                         (400, "InvalidAction")])
def test_server_errors_and_unknown_operations_are_missing(status, code):
    assert mod.classify_client_error(error(status, code)) is not None


@pytest.mark.parametrize("status,code", [(403, "AccessDeniedException"), (403, "UnauthorizedOperation"),
                                         (400, "RepositoryNotFoundException"), (403, "InvalidClientTokenId")])
def test_refusals_mean_the_service_answered(status, code):
    assert mod.classify_client_error(error(status, code)) is None


def test_every_choice_has_a_probe_and_a_name():
    assert set(mod.PROBES) == set(mod.NAMES)


def test_message_names_the_services_the_endpoint_and_both_ways_on():
    msg = mod.missing_message({"ecs": "HTTP 501 InternalFailure: x", "codecommit": "HTTP 501 InternalFailure: y"},
                              "http://127.0.0.1:4566")
    assert msg.startswith("Failed to find CodeCommit, ECS at the endpoint http://127.0.0.1:4566")
    assert "cloudlab_aws_connection.endpoint_url" in msg
    assert "nothing was changed" in msg
    assert "local cloud" in msg and "LOCALSTACK_AUTH_TOKEN" in msg
    assert "\n" not in msg


def test_message_of_a_custom_endpoint_gives_no_make_advice():
    msg = mod.missing_message({"ecr": "HTTP 501 InternalFailure: x"}, "http://127.0.0.1:4566")
    assert "make " not in msg and "inventories/local" not in msg
    assert "leave endpoint_url out" in msg


def test_message_on_aws_names_the_region_setting_not_localstack():
    msg = mod.missing_message({"ecr": "HTTP 500 InternalError: x"}, "AWS")
    assert msg.startswith("Failed to find ECR on AWS")
    assert "cloudlab_aws_connection.region" in msg
    assert "LocalStack" not in msg and "make " not in msg


def test_an_endpoint_that_does_not_answer_is_down_not_missing_services():
    silent = {s: mod.NO_ANSWER + "Could not connect to the endpoint URL" for s in ("ecs", "sts", "ecr")}
    msg = mod.check_answers(silent, "http://127.0.0.1:9")
    assert msg.startswith("The endpoint http://127.0.0.1:9 (cloudlab_aws_connection.endpoint_url) does not answer: "
                          "Could not connect to the endpoint URL")
    assert "down" in msg and "nothing was changed" in msg
    assert "Failed to find" not in msg and "make " not in msg and "LOCALSTACK" not in msg


def test_aws_that_does_not_answer_points_at_the_network_and_region():
    msg = mod.check_answers({"sts": mod.NO_ANSWER + "Connect timeout"}, "AWS", "us-east-1")
    assert msg.startswith("AWS does not answer from this machine in us-east-1: Connect timeout.")
    assert "cloudlab_aws_connection.region" in msg and "endpoint_url" not in msg


def test_unreachable_sees_connection_errors_also_wrapped():
    from botocore.exceptions import EndpointConnectionError
    from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
    refused = EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")
    assert mod.unreachable(refused)
    assert mod.unreachable(CloudlabError(message="Failed to read", exception=refused))
    assert not mod.unreachable(error(403, "AccessDenied"))
    assert mod.check_answers({}, "AWS") is None
