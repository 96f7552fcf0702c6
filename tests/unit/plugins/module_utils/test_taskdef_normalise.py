"""The comparison ecs_taskdef_sync makes: what ECS adds never differs, a changed value always does."""
import copy

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _taskdef

DESIRED = {
    "family": "customer-microservice",
    "containerDefinitions": [{
        "name": "customer", "image": "r/customer:latest", "essential": True,
        "environment": [{"name": "APP_DB_HOST", "value": "db-a"}, {"name": "MODE", "value": "x"}],
        "portMappings": [{"containerPort": 8080}],
    }],
    "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "512", "memory": "1024",
}


def described(desired):
    """What DescribeTaskDefinition answers for `desired` (fields and defaults ECS adds)."""
    td = copy.deepcopy(desired)
    td.update(taskDefinitionArn="arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:4",
              revision=4, status="ACTIVE", compatibilities=["EC2", "FARGATE"], volumes=[],
              placementConstraints=[], requiresAttributes=[{"name": "ecs.capability.task-eni"}],
              registeredAt="2026-01-01T00:00:00Z", registeredBy="arn:aws:sts::123456789012:assumed-role/x")
    c = td["containerDefinitions"][0]
    c.update(cpu=0, mountPoints=[], volumesFrom=[])
    c["portMappings"] = [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    c["environment"] = list(reversed(c["environment"]))
    return td


def test_same_content_as_described_does_not_differ():
    assert not _taskdef.differs(DESIRED, described(DESIRED))


def test_changed_environment_value_differs():
    # Same list lengths, one value changed.
    changed = copy.deepcopy(DESIRED)
    changed["containerDefinitions"][0]["environment"][0]["value"] = "db-b"
    assert _taskdef.differs(changed, described(DESIRED))


@pytest.mark.parametrize("path,value", [
    (("cpu",), "1024"),
    (("containerDefinitions", 0, "image"), "r/customer:v2"),
    (("containerDefinitions", 0, "portMappings", 0, "containerPort"), 8081),
    (("executionRoleArn",), "arn:aws:iam::123456789012:role/Other"),
])
def test_other_changes_differ(path, value):
    changed = copy.deepcopy(DESIRED)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert _taskdef.differs(changed, described(DESIRED))


def test_removed_variable_differs():
    changed = copy.deepcopy(DESIRED)
    changed["containerDefinitions"][0]["environment"].pop()
    assert _taskdef.differs(changed, described(DESIRED))


def test_no_revision_differs():
    assert _taskdef.differs(DESIRED, None)


def released(desired, image):
    """What a pipeline's CodeDeployToECS action registers from `desired`'s content: the image by digest."""
    td = described(desired)
    td["containerDefinitions"][0]["image"] = image
    return td


DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("image", ["r/customer@" + DIGEST, "r/customer:latest@" + DIGEST])
def test_a_release_of_the_content_is_the_content(image):
    assert _taskdef.is_release_of(DESIRED, released(DESIRED, image))
    assert _taskdef.is_release_of(DESIRED, described(DESIRED))


def test_a_registry_port_is_no_tag():
    desired = copy.deepcopy(DESIRED)
    desired["containerDefinitions"][0]["image"] = "127.0.0.1:5000/customer:latest"
    assert _taskdef.is_release_of(desired, released(desired, "127.0.0.1:5000/customer@" + DIGEST))
    assert not _taskdef.is_release_of(desired, released(desired, "127.0.0.1:5001/customer@" + DIGEST))


@pytest.mark.parametrize("image", [
    "r/other@" + DIGEST,        # another repository
    "r/customer:v2",            # another tag, not a digest
])
def test_another_image_is_no_release(image):
    assert not _taskdef.is_release_of(DESIRED, released(DESIRED, image))


def test_a_digest_asked_for_must_be_that_digest():
    desired = copy.deepcopy(DESIRED)
    desired["containerDefinitions"][0]["image"] = "r/customer@" + DIGEST
    assert _taskdef.is_release_of(desired, released(desired, "r/customer@" + DIGEST))
    assert not _taskdef.is_release_of(desired, released(desired, "r/customer@sha256:" + "b" * 64))
    # A tag where a digest was asked for is no release of it either.
    assert not _taskdef.is_release_of(desired, released(desired, "r/customer:latest"))


def test_a_release_with_other_content_is_no_release():
    changed = copy.deepcopy(DESIRED)
    changed["containerDefinitions"][0]["environment"][0]["value"] = "db-b"
    assert not _taskdef.is_release_of(changed, released(DESIRED, "r/customer@" + DIGEST))
    assert not _taskdef.is_release_of(DESIRED, None)


def test_unchanged_gives_the_modules_entries_only_when_every_family_is_its_latest_revision():
    employee = dict(copy.deepcopy(DESIRED), family="employee-microservice")
    registered = {"customer-microservice": described(DESIRED),
                  "employee-microservice": dict(released(employee, "r/customer@" + DIGEST), revision=7,
                                                taskDefinitionArn="arn:td/employee-microservice:7")}
    assert _taskdef.unchanged([DESIRED, employee], registered) == [
        dict(family="customer-microservice", previous_arn=registered["customer-microservice"]["taskDefinitionArn"],
             changed=False, arn=registered["customer-microservice"]["taskDefinitionArn"], revision=4),
        dict(family="employee-microservice", previous_arn="arn:td/employee-microservice:7", changed=False,
             arn="arn:td/employee-microservice:7", revision=7)]
    # One family that changed, was not read, or whose latest revision is deregistered: the module decides.
    changed = copy.deepcopy(DESIRED)
    changed["memory"] = "2048"
    assert _taskdef.unchanged([changed, employee], registered) is None
    assert _taskdef.unchanged([DESIRED, employee], {"customer-microservice": registered["customer-microservice"]}) is None
    gone = dict(registered, **{"customer-microservice": dict(described(DESIRED), status="INACTIVE")})
    assert _taskdef.unchanged([DESIRED, employee], gone) is None
    # An image not known yet (a repository still to be created): never unchanged.
    unknown = copy.deepcopy(DESIRED)
    unknown["containerDefinitions"][0]["image"] = None
    assert _taskdef.unchanged([unknown], registered) is None
