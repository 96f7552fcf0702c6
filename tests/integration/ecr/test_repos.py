"""Role ecr_repos: every repository in one module run, URIs never invented in check mode."""
import json
import os

import pytest

from helpers import run_playbook

PLAYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plays")

REPOS = os.path.join(PLAYS, "repos.yml")
PUSH = os.path.join(PLAYS, "push.yml")
SERVICES = [{"name": "customer"}, {"name": "employee"}]


def _play(result):
    return json.loads(result.stdout[result.stdout.index("{"):])["plays"][0]


def _published(result):
    msg = _play(result)["tasks"][-1]["hosts"]["localhost"]["msg"]
    return json.loads(msg.split(" ", 1)[1])


def _module_runs(result):
    """Actions of the tasks that ran a module (the others run on the controller only)."""
    controller = ("ansible.builtin.set_fact", "ansible.builtin.debug", "ansible.builtin.validate_argument_spec",
                  "ansible.builtin.include_role", "cloudlab.microservices.preflight")
    actions = [t["hosts"]["localhost"].get("action") for t in _play(result)["tasks"]]
    return [a for a in actions if a not in controller]


def test_check_mode_predicts_without_inventing_uris(cloud):
    result = run_playbook(cloud, REPOS, check=True, extra_vars={"microservices": SERVICES})
    assert result.rc == 0, result
    assert result.stats()["localhost"]["changed"] == 1
    published = _published(result)
    # Still to be created: no URI (the playbook used to invent <account>.dkr.ecr...).
    assert published["uris"] == {"customer": "", "employee": ""}
    registry = cloud.client("ecr").get_authorization_token()["authorizationData"][0]["proxyEndpoint"]
    assert published["registry"] == registry.split("://", 1)[-1]
    assert cloud.client("ecr").describe_repositories()["repositories"] == []


def test_one_run_creates_every_repository_then_changes_nothing(cloud):
    first = run_playbook(cloud, REPOS, extra_vars={"microservices": SERVICES})
    assert first.rc == 0, first
    assert _module_runs(first) == ["cloudlab.microservices.ecr_repository"]
    ecr = cloud.client("ecr")
    repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    assert sorted(repos) == ["customer", "employee"]
    published = _published(first)
    assert published["uris"] == {n: repos[n]["repositoryUri"] for n in repos}
    assert published["registry"] == repos["customer"]["repositoryUri"].split("/")[0]
    policy = json.loads(ecr.get_repository_policy(repositoryName="customer")["policyText"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    lifecycle = json.loads(ecr.get_lifecycle_policy(repositoryName="employee")["lifecyclePolicyText"])
    assert lifecycle["rules"][0]["selection"]["countNumber"] == 10
    tags = ecr.list_tags_for_resource(resourceArn=repos["customer"]["repositoryArn"])["tags"]
    assert {"Key": "Project", "Value": "microservices"} in tags
    assert repos["customer"]["imageScanningConfiguration"]["scanOnPush"] is True

    again = run_playbook(cloud, REPOS, extra_vars={"microservices": SERVICES})
    assert again.rc == 0, again
    assert again.stats()["localhost"]["changed"] == 0
    check = run_playbook(cloud, REPOS, check=True, extra_vars={"microservices": SERVICES})
    assert check.stats()["localhost"]["changed"] == 0
    assert _published(check)["uris"] == published["uris"]


def test_lab_scope_warns_and_opens_the_policy(cloud):
    result = run_playbook(cloud, REPOS, json_output=False, diff=True,
                          extra_vars={"microservices": SERVICES, "ecr_repos_policy_scope": "lab"})
    assert result.rc == 0, result
    out = " ".join(result.output.split())
    assert "grants ECR actions to Principal '*'" in out and "customer, employee" in out
    assert "deprecat" not in out.lower()
    policy = json.loads(cloud.client("ecr").get_repository_policy(repositoryName="employee")["policyText"])
    assert policy["Statement"][0]["Principal"] == "*"


@pytest.mark.parametrize("variable, value, allowed", [
    ("ecr_repos_policy_scope", "everyone", "account, lab"),
    ("image_push_method", "ftp", "auto, docker, archive"),
])
def test_a_wrong_choice_is_one_line_naming_variable_value_and_choices(cloud, variable, value, allowed):
    """Issue 10 item 4: no dump of the argument spec, before anything changes."""
    result = run_playbook(cloud, PUSH, extra_vars={"microservices": SERVICES, variable: value})
    assert result.rc != 0
    failed = [t["hosts"]["localhost"] for t in _play(result)["tasks"] if t["hosts"]["localhost"].get("failed")]
    assert len(failed) == 1
    msg = failed[0]["msg"]
    assert "\n" not in msg
    assert variable in msg and value in msg and allowed in msg, msg
    assert "argument_spec" not in json.dumps(failed[0])
    assert cloud.client("ecr").describe_repositories()["repositories"] == []


def test_one_repository_by_name_as_the_destroy_playbook_uses_it(cloud, archives):
    """`name` + state absent + force_absent: what phase5_destroy.yml runs; check mode first."""
    play = os.path.join(PLAYS, "repository.yml")
    created = run_playbook(cloud, play, extra_vars={"repository_args": {"name": "customer"}})
    assert created.rc == 0, created
    one = _play(created)["tasks"][0]["hosts"]["localhost"]
    assert one["repository"]["repositoryName"] == "customer" and one["uris"]["customer"] == one["repository"]["repositoryUri"]
    pushed = run_playbook(cloud, os.path.join(PLAYS, "push_module.yml"), extra_vars={
        "images": [{"repository": "customer", "source": archives["customer"]}]})
    assert pushed.rc == 0, pushed

    absent = {"name": "customer", "state": "absent"}
    refused = run_playbook(cloud, play, extra_vars={"repository_args": absent})
    assert refused.rc != 0
    assert "Failed to delete ECR repository customer: it holds images; set force_absent" in refused.output
    predicted = run_playbook(cloud, play, check=True, extra_vars={"repository_args": dict(absent, force_absent=True)})
    assert predicted.stats()["localhost"]["changed"] == 1
    assert [r["repositoryName"] for r in cloud.client("ecr").describe_repositories()["repositories"]] == ["customer"]
    deleted = run_playbook(cloud, play, extra_vars={"repository_args": dict(absent, force_absent=True)})
    assert deleted.stats()["localhost"]["changed"] == 1
    assert cloud.client("ecr").describe_repositories()["repositories"] == []
    again = run_playbook(cloud, play, extra_vars={"repository_args": dict(absent, force_absent=True)})
    assert again.rc == 0 and again.stats()["localhost"]["changed"] == 0


def test_lifecycle_numbers_given_as_text_are_sent_as_numbers(cloud):
    """ansible-core 2.18 renders `countNumber: "{{ keep | int }}"` (roles/ecr_repos) as the text "10": the module
    sends numbers, which ECR takes, and the rerun compares equal to the policy read back."""
    rule = {"rulePriority": "1", "description": "keep 5", "action": {"type": "expire"},
            "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": "5"}}
    args = {"repository_args": {"name": "customer", "lifecycle_policy": {"rules": [rule]}}}
    play = os.path.join(PLAYS, "repository.yml")
    created = run_playbook(cloud, play, extra_vars=args)
    assert created.rc == 0, created
    stored = json.loads(cloud.client("ecr").get_lifecycle_policy(repositoryName="customer")["lifecyclePolicyText"])
    assert stored["rules"][0]["selection"]["countNumber"] == 5 and stored["rules"][0]["rulePriority"] == 1
    again = run_playbook(cloud, play, extra_vars=args)
    assert again.rc == 0 and again.stats()["localhost"]["changed"] == 0, again
