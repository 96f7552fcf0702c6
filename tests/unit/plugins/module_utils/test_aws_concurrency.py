"""The per-service work of ecs_taskdef_sync, ecr_repository and ecr_image_push runs on
a few threads (module_utils/_aws.py's ``each``); results must come back in the
services' order whatever order the workers finish in, and a failure must name its
service. botocore's Stubber is not thread-friendly: a stub client object answers here.
Workers finish in reverse order because each waits (on an Event, not a clock) for
the next one to finish first.
"""
import threading

import pytest

from botocore import exceptions as botocore_exceptions
from ansible_collections.cloudlab.microservices.plugins.module_utils import _aws as aws
from ansible_collections.cloudlab.microservices.plugins.modules import ecs_taskdef_sync

FAMILIES = ["svc-%02d" % i for i in range(6)]  # no more than the workers (8): all run at once
ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/%s:%d"


def reverse_gate(names):
    """wait(name) returns once every later name has called done(): workers end last-first."""
    events = dict((name, threading.Event()) for name in names)

    def wait(name):
        later = names[names.index(name) + 1:]
        if later:
            assert events[later[0]].wait(10), "worker for %s never finished" % later[0]

    return wait, lambda name: events[name].set()


class StubEcs(object):
    """describe_task_definition: no revision yet; register_task_definition: revision 1, in reverse order."""

    def __init__(self, fail=None):
        self.wait, self.done = reverse_gate(FAMILIES)
        self.fail = fail
        self.threads = set()

    def describe_task_definition(self, taskDefinition):
        raise botocore_exceptions.ClientError(
            {"Error": {"Code": "ClientException", "Message": "Unable to describe task definition."}},
            "DescribeTaskDefinition")

    def register_task_definition(self, **desired):
        family = desired["family"]
        self.threads.add(threading.current_thread().name)
        try:
            self.wait(family)
            if family == self.fail:
                raise botocore_exceptions.ClientError(
                    {"Error": {"Code": "ClientException", "Message": "No Container Instances"}},
                    "RegisterTaskDefinition")
            return {"taskDefinition": dict(desired, taskDefinitionArn=ARN % (family, 1), revision=1)}
        finally:
            self.done(family)


class FakeModule(object):
    check_mode = False
    _diff = True

    def __init__(self, stub):
        self.stub = stub
        self.params = dict(state="present", families=None, task_definitions=[
            dict(family=f, containerDefinitions=[dict(name=f, image="repo/%s:latest" % f, essential=True)])
            for f in FAMILIES])

    def client(self, service):
        assert service == "ecs"
        return self.stub


@pytest.fixture(autouse=True)
def stub_clients(monkeypatch):
    """The stub has no botocore event system to take the retry policy: the module's client is the stub."""
    monkeypatch.setattr(ecs_taskdef_sync, "aws_client", lambda module, service: module.client(service))


def test_each_keeps_order_and_raises_the_first_failure_in_order():
    wait, done = reverse_gate(FAMILIES)

    def work(name):
        try:
            wait(name)
            if name in ("svc-02", "svc-04"):
                raise botocore_exceptions.ClientError({"Error": {"Code": "Boom", "Message": "no"}}, "Op")
            return name.upper()
        finally:
            done(name)

    with pytest.raises(aws.CloudlabError) as caught:
        aws.each(work, FAMILIES, str, "build service")

    def upper(name):
        try:
            ok_wait(name)
            return name.upper()
        finally:
            ok_done(name)

    ok_wait, ok_done = reverse_gate(FAMILIES)
    assert aws.each(upper, FAMILIES, str, "build service") == [n.upper() for n in FAMILIES]
    assert caught.value.message == "Failed to build service svc-02"


def test_taskdef_sync_merges_in_the_services_order():
    stub = StubEcs()
    result = ecs_taskdef_sync.ensure_present(FakeModule(stub))
    assert len(stub.threads) > 1  # it did run concurrently
    assert [e["family"] for e in result["task_definitions"]] == FAMILIES
    assert [e["arn"] for e in result["task_definitions"]] == [ARN % (f, 1) for f in FAMILIES]
    assert list(result["arns"]) == FAMILIES
    assert list(result["diff"]["after"]) == FAMILIES
    assert result["changed"] is True


def test_taskdef_sync_failure_names_the_family():
    with pytest.raises(aws.CloudlabError) as caught:
        ecs_taskdef_sync.ensure_present(FakeModule(StubEcs(fail="svc-03")))
    message = caught.value.message
    assert "svc-03" in message and "\n" not in message
    assert message.startswith("Failed to register task definition svc-03")
