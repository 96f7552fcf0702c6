"""The change events the local cloud sends EventBridge, as AWS sends them: seen through an SQS target."""
import json

from localcloud.testing.lab import push_image, Deployment


def _queue(cloud, name, pattern):
    sqs, events = cloud.client("sqs"), cloud.client("events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    return url


def _received(cloud, url):
    messages = cloud.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return [json.loads(m["Body"]) for m in messages]


def test_push_and_image_events(release_cloud, tmp_path):
    cloud = release_cloud
    cloud.reset()
    commits = _queue(cloud, "commits", {"source": ["aws.codecommit"]})
    images = _queue(cloud, "images", {"source": ["aws.ecr"]})
    repo = Deployment.create(cloud, tmp_path / "deployment")
    first = repo.push({"a.txt": "1"}, "first")
    second = repo.push({"a.txt": "2"}, "second")
    created, updated = sorted(_received(cloud, commits), key=lambda e: e["detail"]["event"])
    assert created["detail-type"] == "CodeCommit Repository State Change"
    assert created["resources"] == ["arn:aws:codecommit:us-east-1:123456789012:deployment"]
    keys = ("event", "referenceType", "referenceName", "commitId", "repositoryName")
    assert dict((k, created["detail"][k]) for k in keys) == {
        "event": "referenceCreated", "referenceType": "branch", "referenceName": "dev", "commitId": first,
        "repositoryName": "deployment"}
    assert (updated["detail"]["event"], updated["detail"]["commitId"], updated["detail"]["oldCommitId"]) == (
        "referenceUpdated", second, first)
    repo.git("push", "-q", "origin", "dev:feature")
    repo.git("push", "-q", "origin", ":feature")
    (made, deleted) = sorted(_received(cloud, commits), key=lambda e: e["detail"]["event"])
    assert (made["detail"]["event"], made["detail"]["referenceName"], made["detail"]["commitId"]) == (
        "referenceCreated", "feature", second)
    assert (deleted["detail"]["event"], deleted["detail"]["oldCommitId"]) == ("referenceDeleted", second)
    assert "commitId" not in deleted["detail"]

    cloud.client("ecr").create_repository(repositoryName="employee")
    digest = push_image(cloud, "employee", "1")
    (event,) = _received(cloud, images)
    assert event["detail-type"] == "ECR Image Action"
    assert event["detail"] == {"result": "SUCCESS", "repository-name": "employee", "image-digest": digest,
                               "action-type": "PUSH", "image-tag": "latest"}
