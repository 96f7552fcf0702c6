"""Fixtures of the plugins' unit tests: AWS clients answered in-process (botocore Stubbers, or lab_info's tables)."""
import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils import modules as aws_modules
from localcloud.testing.cloud import REGION

from helpers.lab_info_reads import stubbed_reads


@pytest.fixture
def aws(monkeypatch):
    """lab_info's reads answered in-process from tables (helpers/lab_info_reads.py): {calls, answers, writes}."""
    return stubbed_reads(monkeypatch)


@pytest.fixture
def stubs(monkeypatch):
    """{service: Stubber}: the clients a module makes answer from botocore Stubbers (unit tests).

    amazon.aws's `boto3_conn` is patched, not `_aws.client()`: the stubbed client gets the collection's
    retry policy as any other, but a Stubber answers before botocore's retry handler runs (retries are
    tested through the local cloud's faults).
    `stubs[service]` (or the module asking for that service) makes the service's client and
    its Stubber, active, once. At teardown every stubbed answer must have been used.
    """
    class Stubs(dict):
        def __missing__(self, service):
            client = boto3.client(service, region_name=REGION,
                                  aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
            stubber = self[service] = Stubber(client)
            stubber.activate()
            return stubber

    stubbers = Stubs()
    monkeypatch.setattr(aws_modules, "boto3_conn", lambda *_args, **kwargs: stubbers[kwargs["resource"]].client)
    yield stubbers
    unused = {}
    for service, stubber in stubbers.items():
        try:
            stubber.assert_no_pending_responses()
        except AssertionError as e:
            unused[service] = str(e)
    assert not unused, "stubbed answers the module never asked for: %s" % unused
