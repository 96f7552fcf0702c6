"""endpoint_services_info: which answers of an endpoint mean "this service is
not there" (LocalStack's 501 for a paid service, a server error), and the
message that stops a run before any change. The probes themselves run against
LocalStack's community runtime in the molecule scenario `localstack`."""
import os
import sys

import pytest
from botocore.exceptions import ClientError

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, ".collections"))
mod = pytest.importorskip("ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint")


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
