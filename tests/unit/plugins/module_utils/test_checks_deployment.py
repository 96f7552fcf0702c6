"""Cross-variable rules of the codecommit_repo and taskdef_appspec roles: one line each, naming the variable."""

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import taskdef_appspec
from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import codecommit_repo

SERVICES = [{"name": "customer", "db_host": ""}, {"name": "employee", "db_host": ""}]
GOOD = {
    "taskdef_appspec_image_uris": {"customer": "123456789012.dkr.ecr.us-east-1.amazonaws.com/customer",
                                   "employee": "127.0.0.1:5000/employee"},
    "taskdef_appspec_execution_role_arn": "arn:aws:iam::123456789012:role/PipelineRole",
    "taskdef_appspec_db_host": "supplierdb.aaaaaaaaaa.us-east-1.rds.amazonaws.com",
    "taskdef_appspec_region": "us-east-1",
    "taskdef_appspec_branch": "dev",
    "taskdef_appspec_dir": "~/deployment",
    "taskdef_appspec_remote_url": "",
    "taskdef_appspec_git_author_name": "a",
    "taskdef_appspec_git_author_email": "a@example.invalid",
    "taskdef_appspec_log_group": "awslogs-capstone",
}


def problems(**changes):
    return taskdef_appspec.check(dict(GOOD, **changes), SERVICES)


def test_good_inputs_pass():
    assert problems() == []


def test_repositories_still_to_be_created_or_not_wired_yet_pass():
    assert problems(taskdef_appspec_image_uris={"customer": "", "employee": ""}) == []
    assert problems(taskdef_appspec_image_uris={}) == []


@pytest.mark.parametrize("changes,expected", [
    ({"taskdef_appspec_image_uris": {"customer": "r.example/customer"}},
     "taskdef_appspec_image_uris has no repository URI for employee"),
    ({"taskdef_appspec_image_uris": {"customer": "r.example/customer:latest", "employee": "r.example/employee"}},
     "taskdef_appspec_image_uris[customer] is 'r.example/customer:latest'"),
    ({"taskdef_appspec_db_host": ""}, "taskdef_appspec_db_host is empty and customer, employee set no `db_host`"),
    ({"taskdef_appspec_execution_role_arn": ""}, "taskdef_appspec_execution_role_arn is ''"),
    ({"taskdef_appspec_execution_role_arn": "PipelineRole"}, "wire aws_context_pipeline_role_arn"),
    ({"taskdef_appspec_region": "us east"}, "taskdef_appspec_region is 'us east'"),
    ({"taskdef_appspec_branch": "dev..x"}, "taskdef_appspec_branch is 'dev..x', which git refuses"),
    ({"taskdef_appspec_branch": "feature/"}, "taskdef_appspec_branch is 'feature/'"),
    ({"taskdef_appspec_branch": "my branch"}, "it holds ' '"),
    ({"taskdef_appspec_dir": " "}, "taskdef_appspec_dir is empty"),
    ({"taskdef_appspec_remote_url": "https://x y"}, "taskdef_appspec_remote_url is 'https://x y'"),
    ({"taskdef_appspec_git_author_email": ""}, "taskdef_appspec_git_author_email is empty"),
    ({"taskdef_appspec_log_group": "a b"}, "taskdef_appspec_log_group is 'a b'"),
])
def test_each_rule_names_the_variable(changes, expected):
    found = problems(**changes)
    assert len(found) == 1 and expected in found[0], found
    assert "\n" not in found[0]


def test_a_service_db_host_is_enough():
    services = [{"name": "customer", "db_host": "own-db"}]
    assert taskdef_appspec.check(dict(GOOD, taskdef_appspec_db_host="", taskdef_appspec_image_uris={}), services) == []


def test_codecommit_name_rule_only_without_another_remote():
    good = {"codecommit_repo_name": "deployment", "codecommit_repo_remote_url": "", "codecommit_repo_description": "d"}
    assert codecommit_repo.check(good, None) == []
    bad = dict(good, codecommit_repo_name="deploy ment")
    assert "codecommit_repo_name is 'deploy ment'" in codecommit_repo.check(bad, None)[0]
    assert codecommit_repo.check(dict(good, codecommit_repo_name="x.git"), None)
    assert codecommit_repo.check(dict(bad, codecommit_repo_remote_url="file:///srv/deployment.git"), None) == []
    long = dict(good, codecommit_repo_description="x" * 1001)
    assert "at most 1000" in codecommit_repo.check(long, None)[0]
