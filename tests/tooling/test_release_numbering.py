"""`make release` numbers its version after the live one (what the image the service runs says), not after the
pipeline's executions, which a destroy and a rebuild start again from one."""
import os

import pytest

from examples import release_cli

pytestmark = pytest.mark.skipif(not os.path.exists("/bin/busybox"), reason="no /bin/busybox for the sample images")


def _push(cloud, version, tag="latest"):
    manifest, blobs = release_cli.image_of("employee", version)
    return release_cli.push(cloud, "employee", manifest, blobs, tag=tag)


def _runs(cloud, image, cluster="microservices-serverlesscluster"):
    """An ECS service employee-microservice on `cluster` whose task definition runs `image`."""
    ecs = cloud.ecs
    ecs.create_cluster(clusterName=cluster)
    arn = ecs.register_task_definition(
        family="employee-microservice",
        containerDefinitions=[{"name": "employee", "image": image, "memory": 512}])["taskDefinition"][
        "taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName="employee-microservice", taskDefinition=arn, desiredCount=1)


@pytest.fixture
def rebuilt(cloud):
    """The account after a destroy and a rebuild: version 13 live and latest, the pipeline's count back at one."""
    aws = release_cli.Cloud(cloud.endpoint)
    aws.ecr.create_repository(repositoryName="employee")
    digest = _push(aws, "13")
    uri = aws.ecr.describe_repositories(repositoryNames=["employee"])["repositories"][0]["repositoryUri"]
    return aws, uri, digest


def test_release_follows_the_live_version(rebuilt):
    aws, uri, digest = rebuilt
    _runs(aws, "%s@%s" % (uri, digest))
    assert release_cli.live_version(aws, "employee") == 13
    # One execution so far (CreatePipeline's): the count alone would say version 2.
    version, manifest, _blobs = release_cli.next_version(aws, "employee", None, 2)
    assert version == "14"
    assert manifest == release_cli.image_of("employee", "14")[0]


def test_live_image_named_by_tag(rebuilt):
    aws, uri, _digest = rebuilt
    _runs(aws, "%s:latest" % uri)
    assert release_cli.next_version(aws, "employee", None, 2)[0] == "14"


def test_a_pushed_version_not_yet_live_is_skipped(rebuilt):
    aws, uri, _digest = rebuilt
    _push(aws, "13", tag="v13")
    _runs(aws, "%s:v13" % uri)
    _push(aws, "14")  # latest, but its deployment failed: 13 is still live
    assert release_cli.live_version(aws, "employee") == 13
    assert release_cli.next_version(aws, "employee", None, 2)[0] == "15"


def test_without_a_live_image_the_count_stands(rebuilt):
    aws, _uri, _digest = rebuilt
    assert release_cli.live_version(aws, "employee") is None
    assert release_cli.next_version(aws, "employee", None, 3)[0] == "3"
    _runs(aws, "customer:latest")  # Phase 5's task definitions name a local image, not the ECR repository
    assert release_cli.live_version(aws, "employee") is None
    assert release_cli.next_version(aws, "employee", None, 3)[0] == "3"
