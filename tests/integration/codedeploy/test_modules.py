"""The Phase 8 modules alone (plays/modules.yml asserts inside the play)."""
import json
import os

from helpers import run_playbook

PLAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plays", "modules.yml")


def test_application_and_pipeline_modules(cloud):
    role = cloud.client("iam").create_role(RoleName="PipelineRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "codepipeline.amazonaws.com"}}]}))
    result = run_playbook(cloud, PLAY, extra_vars={"role_arn": role["Role"]["Arn"]})
    assert result.rc == 0, result
    stats = result.stats()["localhost"]
    # application: created, predicted, deleted; pipeline: created, predicted, changed, deleted
    assert stats["failures"] == 0 and stats["changed"] == 7
    assert cloud.client("codepipeline").list_pipelines()["pipelines"] == []
    assert cloud.client("events").list_rules()["Rules"] == []
    assert cloud.client("s3").list_buckets()["Buckets"] == []
