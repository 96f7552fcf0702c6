"""Tasks 5.3 to 5.6 on the local cloud with real git: roles codecommit_repo and taskdef_appspec."""
import json
import os

import pytest

from localcloud.testing import require_binary

from helpers import git, run_playbook

HERE = os.path.dirname(os.path.abspath(__file__))
PLAY = "tests/integration/deployment/plays/deploy.yml"
DEREGISTER = "tests/integration/deployment/plays/deregister.yml"
PREFLIGHT_FIRST = "tests/integration/deployment/plays/preflight_first.yml"
GOLDEN = os.path.join(HERE, "golden")
ACCOUNT = "123456789012"
DB_HOST = "supplierdb.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
FILES = ["appspec-customer.yaml", "appspec-employee.yaml", "taskdef-customer.json", "taskdef-employee.json"]


@pytest.fixture
def remote(tmp_path):
    """A bare repository standing for the CodeCommit repository (codecommit_repo_remote_url)."""
    require_binary("git")
    path = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(path))
    return path


def inputs(tmp_path, remote=None, services=None, **extra):
    names = [s["name"] for s in services or [{"name": "customer"}, {"name": "employee"}]]
    data = {
        "taskdef_appspec_dir": str(tmp_path / "deployment"),
        "taskdef_appspec_image_uris": dict(
            (n, "%s.dkr.ecr.us-east-1.amazonaws.com/%s" % (ACCOUNT, n)) for n in names),
        "taskdef_appspec_execution_role_arn": "arn:aws:iam::%s:role/PipelineRole" % ACCOUNT,
        "taskdef_appspec_db_host": DB_HOST,
    }
    if remote is not None:
        data["deploy_test_remote_url"] = "file://%s" % remote
    if services is not None:
        data["microservices"] = services
    data.update(extra)
    return data


def apply(cloud, extra_vars, playbook=PLAY, **kwargs):
    result = run_playbook(cloud, playbook, extra_vars=extra_vars, **kwargs)
    assert result.rc == 0, result
    return result


def published(result):
    """What the play's last debug task shows: clone URL, ARNs, commit."""
    data = json.loads(result.stdout[result.stdout.index("{"):])
    for task in data["plays"][0]["tasks"]:
        msg = task["hosts"].get("localhost", {}).get("msg", "")
        if isinstance(msg, str) and msg.startswith("DEPLOY "):
            return json.loads(msg[len("DEPLOY "):])
    raise AssertionError("the play showed no DEPLOY line")


def failure(result):
    """The messages of the failed tasks, joined."""
    data = json.loads(result.stdout[result.stdout.index("{"):])
    return " | ".join(h.get("msg", "") for play in data["plays"] for task in play["tasks"]
                      for h in task["hosts"].values() if h.get("failed"))


def module_runs(result):
    """Tasks that ran a module (not skipped; set_fact, include, debug and argument checks cost none)."""
    free = ("ansible.builtin.set_fact", "ansible.builtin.include_tasks", "ansible.builtin.debug",
            "cloudlab.microservices.preflight", "set_fact", "include_tasks", "debug",
            "ansible.builtin.validate_argument_spec", "validate_argument_spec",
            "ansible.builtin.include_role", "include_role")
    data = json.loads(result.stdout[result.stdout.index("{"):])
    return [task["task"]["name"] for play in data["plays"] for task in play["tasks"]
            if task["hosts"].get("localhost", {}).get("action") not in free
            and not task["hosts"].get("localhost", {}).get("skipped")]


def revisions(cloud, family):
    return cloud.client("ecs").list_task_definitions(familyPrefix=family)["taskDefinitionArns"]


def commits(repo, branch="dev"):
    return git("rev-list", branch, cwd=str(repo)).split()


def clone(url, dest):
    git("clone", "--quiet", "--branch", "dev", url, str(dest))
    return dest


def test_files_match_the_lab_and_reach_dev(cloud, remote, tmp_path):
    result = apply(cloud, inputs(tmp_path, remote))

    checkout = clone("file://%s" % remote, tmp_path / "checkout")
    assert sorted(f for f in os.listdir(str(checkout)) if not f.startswith(".")) == FILES
    for name in FILES:
        with open(os.path.join(GOLDEN, name)) as f:
            want = f.read()
        with open(os.path.join(str(checkout), name)) as f:
            got = f.read()
        if name.endswith(".json"):
            assert json.loads(got) == json.loads(want), name
        else:
            assert got == want, name
    assert len(commits(remote)) == 1

    # Registered with the real image, not the placeholder.
    ecs = cloud.client("ecs")
    arns = published(result)["arns"]
    for svc in ("customer", "employee"):
        td = ecs.describe_task_definition(taskDefinition=arns[svc])["taskDefinition"]
        assert td["family"] == "%s-microservice" % svc
        assert td["containerDefinitions"][0]["image"] == "%s.dkr.ecr.us-east-1.amazonaws.com/%s:latest" % (ACCOUNT, svc)
    assert published(result)["commit"] == commits(remote)[0]


def test_second_run_makes_no_commit_and_no_revision(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote)
    apply(cloud, extra)
    before = (commits(remote), revisions(cloud, "customer"), revisions(cloud, "employee"))

    again = apply(cloud, extra)

    assert again.stats()["localhost"]["changed"] == 0
    assert (commits(remote), revisions(cloud, "customer"), revisions(cloud, "employee")) == before
    checked = apply(cloud, extra, check=True)
    assert checked.stats()["localhost"]["changed"] == 0


def test_releases_on_top_are_not_a_change(cloud, remote, tmp_path):
    """Every release registers the family again with the image digest in place of the tag (the pipeline's
    CodeDeployToECS action): after seven of them a rerun registers nothing, and names the released revision."""
    extra = inputs(tmp_path, remote)
    first = published(apply(cloud, extra))
    ecs = cloud.client("ecs")
    ours = ecs.describe_task_definition(taskDefinition=first["arns"]["customer"])["taskDefinition"]
    keys = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory", "executionRoleArn",
            "containerDefinitions")
    released = dict((k, ours[k]) for k in keys if k in ours)
    for execution in range(7):
        released["containerDefinitions"] = [dict(c, image=c["image"].split(":")[0] + "@sha256:" + "%x" % execution * 64)
                                            for c in ours["containerDefinitions"]]
        top = ecs.register_task_definition(**released)["taskDefinition"]["taskDefinitionArn"]
    family = ours["family"]
    before = revisions(cloud, family)
    assert len(before) == 8

    again = apply(cloud, extra)
    checked = apply(cloud, extra, check=True)

    assert again.stats()["localhost"]["changed"] == 0
    assert checked.stats()["localhost"]["changed"] == 0
    assert revisions(cloud, family) == before
    assert published(again)["arns"]["customer"] == top

    # Content that the latest revision does not have, released or not, still registers a new one.
    changed = apply(cloud, dict(extra, taskdef_appspec_db_host="other.example.internal"))
    assert changed.stats()["localhost"]["changed"] >= 1
    assert len(revisions(cloud, family)) == len(before) + 1


def test_changed_db_host_gives_one_revision_per_service_and_one_commit(cloud, remote, tmp_path):
    apply(cloud, inputs(tmp_path, remote))
    before = dict((f, revisions(cloud, f)) for f in ("customer-microservice", "employee-microservice"))

    # Same list lengths, one value changed: the case community.aws.ecs_taskdefinition misses.
    apply(cloud, inputs(tmp_path, remote, taskdef_appspec_db_host="other-db.example.internal"))

    ecs = cloud.client("ecs")
    for family, arns in before.items():
        after = revisions(cloud, family)
        assert len(after) == len(arns) + 1, family
        latest = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
        assert latest["containerDefinitions"][0]["environment"] == [
            {"name": "APP_DB_HOST", "value": "other-db.example.internal"}]
    assert len(commits(remote)) == 2
    changed = git("diff", "--name-only", "dev~1", "dev", cwd=str(remote)).split()
    assert changed == ["taskdef-customer.json", "taskdef-employee.json"]


def test_three_services_give_six_files(cloud, remote, tmp_path):
    services = [{"name": "customer"}, {"name": "employee", "port": 8081}, {"name": "inventory"}]
    apply(cloud, inputs(tmp_path, remote, services=services))

    checkout = clone("file://%s" % remote, tmp_path / "checkout")
    names = sorted(f for f in os.listdir(str(checkout)) if not f.startswith("."))
    assert names == sorted("%s-%s.%s" % (kind, s["name"], ext) for s in services
                           for kind, ext in (("taskdef", "json"), ("appspec", "yaml")))
    # The AppSpec follows the service's own port.
    with open(os.path.join(str(checkout), "appspec-employee.yaml")) as f:
        assert "ContainerPort: 8081" in f.read()
    assert len(revisions(cloud, "inventory-microservice")) == 1


def test_check_mode_predicts_and_changes_nothing(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote)
    checked = apply(cloud, extra, check=True, diff=True)

    assert checked.stats()["localhost"]["changed"] > 0
    assert not (tmp_path / "deployment").exists()
    assert revisions(cloud, "customer-microservice") == []
    assert git("for-each-ref", cwd=str(remote)) == ""


def test_refuses_a_folder_on_another_branch_before_any_change(cloud, remote, tmp_path):
    folder = tmp_path / "deployment"
    git("init", "--quiet", "--initial-branch=main", str(folder))

    result = run_playbook(cloud, PLAY, extra_vars=inputs(tmp_path, remote))

    assert result.rc != 0
    assert "on branch 'main', not 'dev'" in result.output
    assert revisions(cloud, "customer-microservice") == []
    assert sorted(os.listdir(str(folder))) == [".git"]


def test_refuses_unrelated_uncommitted_changes(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote)
    apply(cloud, extra)
    (tmp_path / "deployment" / "notes.txt").write_text("work in progress\n")

    result = run_playbook(cloud, PLAY, extra_vars=dict(extra, taskdef_appspec_db_host="other-db.example.internal"))

    assert result.rc != 0
    # Issue 10 item 4: the message says what is wrong (an untracked file), not the branch.
    message = failure(result)
    assert "untracked file notes.txt" in message and "branch" not in message, message
    assert len(revisions(cloud, "customer-microservice")) == 1
    assert len(commits(remote)) == 1
    assert result.stats()["localhost"]["changed"] == 0


def test_no_db_host_is_refused_before_any_change(cloud, remote, tmp_path):
    result = run_playbook(cloud, PLAY, extra_vars=inputs(tmp_path, remote, taskdef_appspec_db_host=""))

    assert result.rc != 0
    assert "taskdef_appspec_db_host" in result.output and "customer, employee" in result.output
    assert not (tmp_path / "deployment").exists()
    assert revisions(cloud, "customer-microservice") == []


def test_service_db_host_wins(cloud, remote, tmp_path):
    services = [{"name": "customer", "db_host": "customer-db.internal"}, {"name": "employee"}]
    result = apply(cloud, inputs(tmp_path, remote, services=services))

    ecs = cloud.client("ecs")
    arns = published(result)["arns"]
    hosts = dict((svc, ecs.describe_task_definition(taskDefinition=arns[svc])["taskDefinition"]
                  ["containerDefinitions"][0]["environment"][0]["value"]) for svc in arns)
    assert hosts == {"customer": "customer-db.internal", "employee": DB_HOST}


def test_codecommit_on_the_local_cloud(cloud, tmp_path):
    require_binary("git")
    probe = cloud.client("codecommit").create_repository(repositoryName="probe-git")["repositoryMetadata"]
    cloud.client("codecommit").delete_repository(repositoryName="probe-git")
    if not probe["cloneUrlHttp"].startswith("http://127.0.0.1"):
        pytest.skip("this local cloud's CodeCommit hosts no git yet (clone URL %s)" % probe["cloneUrlHttp"])

    result = apply(cloud, inputs(tmp_path))

    repo = cloud.client("codecommit").get_repository(repositoryName="deployment")["repositoryMetadata"]
    assert repo["repositoryDescription"]
    assert published(result)["clone_url"] == repo["cloneUrlHttp"]
    checkout = clone(repo["cloneUrlHttp"], tmp_path / "checkout")
    assert sorted(f for f in os.listdir(str(checkout)) if not f.startswith(".")) == FILES
    again = apply(cloud, inputs(tmp_path))
    assert again.stats()["localhost"]["changed"] == 0


def test_no_op_rerun_runs_two_modules_and_one_read_of_the_folder(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote)
    first = apply(cloud, extra)
    again = apply(cloud, extra)
    runs = module_runs(again)
    # ecs_taskdef_sync and the folder's read in the preflight (the remote is not CodeCommit here, so
    # codecommit_repository does not run); that read predicted nothing to write, commit or push, so
    # git_deployment_repo does not run a second time, and the commit published is the branch's.
    assert len(runs) == 2, runs
    assert again.stats()["localhost"]["changed"] == 0
    assert published(again)["commit"] == published(first)["commit"] == commits(remote)[0]


def test_uncommitted_edit_to_a_managed_file_is_kept_and_refused_before_any_change(cloud, remote, tmp_path):
    # Issue 10 item 3: `echo x >> ~/deployment/taskdef-customer.json`, then a run.
    extra = inputs(tmp_path, remote)
    apply(cloud, extra)
    edited = tmp_path / "deployment" / "taskdef-customer.json"
    with open(str(edited), "a") as handle:
        handle.write("x\n")
    before = edited.read_text()

    result = run_playbook(cloud, PLAY, extra_vars=dict(extra, taskdef_appspec_db_host="other-db.example.internal"))

    assert result.rc != 0
    message = failure(result)
    assert "uncommitted changes to taskdef-customer.json" in message, message
    assert "git -C %s checkout HEAD -- taskdef-customer.json" % (tmp_path / "deployment") in message, message
    assert "taskdef_appspec_overwrite_local_changes: true" in message, message
    assert edited.read_text() == before
    assert result.stats()["localhost"]["changed"] == 0
    assert len(revisions(cloud, "customer-microservice")) == 1
    assert len(commits(remote)) == 1

    # The variable that says to overwrite.
    apply(cloud, dict(extra, taskdef_appspec_db_host="other-db.example.internal",
                      taskdef_appspec_overwrite_local_changes=True))
    assert "other-db.example.internal" in edited.read_text() and not edited.read_text().endswith("x\n")
    assert len(commits(remote)) == 2


def test_folder_that_is_a_file_is_refused_naming_the_variable_and_the_value(cloud, remote, tmp_path):
    # Issue 10 item 4: not "Not a directory: .../.git".
    path = tmp_path / "deployment"
    path.write_text("a file\n")

    result = run_playbook(cloud, PLAY, extra_vars=inputs(tmp_path, remote))

    assert result.rc != 0
    message = failure(result)
    assert "%s (taskdef_appspec_dir): it is a file, not a folder" % path in message, message
    assert result.stats()["localhost"]["changed"] == 0
    assert revisions(cloud, "customer-microservice") == []


def test_diverged_branches_are_refused_and_nothing_reports_changed(cloud, remote, tmp_path):
    # Issue 10 item 6: a failed fast-forward reported changed=1.
    extra = inputs(tmp_path, remote)
    apply(cloud, extra)
    other = clone("file://%s" % remote, tmp_path / "other")
    (other / "README").write_text("from elsewhere\n")
    git("add", "README", cwd=str(other))
    git("-c", "user.name=o", "-c", "user.email=o@example.invalid", "commit", "-q", "-m", "elsewhere", cwd=str(other))
    git("push", "-q", "origin", "dev", cwd=str(other))
    local = tmp_path / "deployment"
    (local / "LOCAL").write_text("local\n")
    git("add", "LOCAL", cwd=str(local))
    git("-c", "user.name=l", "-c", "user.email=l@example.invalid", "commit", "-q", "-m", "local", cwd=str(local))
    head = git("rev-parse", "HEAD", cwd=str(local))

    result = run_playbook(cloud, PLAY, extra_vars=dict(extra, taskdef_appspec_db_host="other-db.example.internal"))

    assert result.rc != 0
    assert "have diverged (1 local commit(s) the remote lacks, 1 remote commit(s)" in failure(result)
    assert result.stats()["localhost"]["changed"] == 0
    assert git("rev-parse", "HEAD", cwd=str(local)) == head
    assert len(revisions(cloud, "customer-microservice")) == 1


def test_local_branch_behind_is_fast_forwarded_then_pushed(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote)
    apply(cloud, extra)
    other = clone("file://%s" % remote, tmp_path / "other")
    (other / "README").write_text("from elsewhere\n")
    git("add", "README", cwd=str(other))
    git("-c", "user.name=o", "-c", "user.email=o@example.invalid", "commit", "-q", "-m", "elsewhere", cwd=str(other))
    git("push", "-q", "origin", "dev", cwd=str(other))

    apply(cloud, dict(extra, taskdef_appspec_db_host="other-db.example.internal"))

    assert len(commits(remote)) == 3
    assert (tmp_path / "deployment" / "README").exists()


def test_check_mode_with_repositories_still_to_be_created_invents_no_uri(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote, taskdef_appspec_image_uris={"customer": "", "employee": ""})
    checked = apply(cloud, extra, check=True, diff=True)

    assert published(checked)["arns"] == {"customer": None, "employee": None}
    data = json.loads(checked.stdout[checked.stdout.index("{"):])
    changed = [task["task"]["name"] for play in data["plays"] for task in play["tasks"]
               if task["hosts"].get("localhost", {}).get("changed")]
    assert any("Register the task definitions" in n for n in changed), changed
    assert any("commit" in n for n in changed), changed
    assert not (tmp_path / "deployment").exists()
    # Outside check mode an unknown image is refused, naming the variable.
    result = run_playbook(cloud, PLAY, extra_vars=extra)
    assert result.rc != 0 and "taskdef_appspec_image_uris" in failure(result)
    assert revisions(cloud, "customer-microservice") == []


def test_deregister_every_active_revision_of_the_families_in_one_run(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote)
    apply(cloud, extra)
    apply(cloud, inputs(tmp_path, remote, taskdef_appspec_db_host="other-db.example.internal"))
    assert len(revisions(cloud, "customer-microservice")) == 2

    checked = run_playbook(cloud, DEREGISTER, check=True)
    assert checked.rc == 0 and checked.stats()["localhost"]["changed"] == 1
    assert len(revisions(cloud, "customer-microservice")) == 2
    gone = run_playbook(cloud, DEREGISTER)
    assert gone.rc == 0 and gone.stats()["localhost"]["changed"] == 1
    assert revisions(cloud, "customer-microservice") == revisions(cloud, "employee-microservice") == []
    again = run_playbook(cloud, DEREGISTER)
    assert again.rc == 0 and again.stats()["localhost"]["changed"] == 0


def test_playbook_preflight_refuses_divergence_before_the_first_change_and_reads_the_folder_once(
        cloud, remote, tmp_path):
    marker = tmp_path / "task51.txt"
    extra = dict(inputs(tmp_path, remote), deploy_test_marker=str(marker))
    apply(cloud, extra, playbook=PREFLIGHT_FIRST)
    marker.unlink()
    # A no-op rerun: the folder is read once, in the playbook's preflight, where the
    # remote's URL is not known yet and the folder's origin stands in for it.
    again = apply(cloud, extra, playbook=PREFLIGHT_FIRST)
    assert again.stats()["localhost"]["changed"] == 1  # the marker only
    runs = [r for r in module_runs(again) if "stands for task 5.1" not in r]
    # The folder's read and ecs_taskdef_sync: that read predicted nothing to write, so no second git run.
    assert len(runs) == 2 and "Write the task definitions" not in " ".join(runs), runs

    other = clone("file://%s" % remote, tmp_path / "other")
    (other / "README").write_text("from elsewhere\n")
    git("add", "README", cwd=str(other))
    git("-c", "user.name=o", "-c", "user.email=o@example.invalid", "commit", "-q", "-m", "elsewhere", cwd=str(other))
    git("push", "-q", "origin", "dev", cwd=str(other))
    local = tmp_path / "deployment"
    (local / "LOCAL").write_text("local\n")
    git("add", "LOCAL", cwd=str(local))
    git("-c", "user.name=l", "-c", "user.email=l@example.invalid", "commit", "-q", "-m", "local", cwd=str(local))
    marker.unlink()

    result = run_playbook(cloud, PREFLIGHT_FIRST, extra_vars=extra)

    assert result.rc != 0
    assert "have diverged" in failure(result) and "taskdef_appspec_dir" in failure(result)
    assert result.stats()["localhost"]["changed"] == 0
    assert not marker.exists()


# Issue 20 item 1: the user's git work. The collection pushes only its own commits.

def user_commit(folder, name, edit, message):
    path = folder / name
    path.write_text(edit(path.read_text()))
    git("add", name, cwd=str(folder))
    git("-c", "user.name=Jane", "-c", "user.email=jane@example.invalid", "commit", "-q", "-m", message,
        cwd=str(folder))
    return git("rev-parse", "HEAD", cwd=str(folder)).strip()


def more_memory(text):
    assert '"memory": "1024"' in text
    return text.replace('"memory": "1024"', '"memory": "2048"')


def test_an_unpushed_commit_of_the_user_is_refused_naming_it_never_pushed(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote)
    apply(cloud, extra)
    folder = tmp_path / "deployment"
    mine = user_commit(folder, "taskdef-customer.json", more_memory, "customer needs more memory")

    for check in (True, False):
        result = run_playbook(cloud, PLAY, extra_vars=extra, check=check)
        assert result.rc != 0
        message = failure(result)
        assert "1 local commit(s) not on branch dev of file://%s that are not this collection's" % remote in message
        assert '%s (Jane <jane@example.invalid>, "customer needs more memory")' % mine[:12] in message, message
        assert "git -C %s push origin dev" % folder in message, message
        assert "taskdef_appspec_include_local_commits: true" in message, message
        assert result.stats()["localhost"]["changed"] == 0
    assert len(commits(remote)) == 1 and mine not in commits(remote)
    assert git("rev-parse", "HEAD", cwd=str(folder)).strip() == mine
    assert len(revisions(cloud, "customer-microservice")) == 1

    # Pushed with the role's own on request; the memory change it makes is then the next question.
    result = run_playbook(cloud, PLAY, extra_vars=dict(extra, taskdef_appspec_include_local_commits=True))
    assert result.rc != 0 and "local commit(s)" not in failure(result)
    assert '`memory: "2048"` in the entry of service customer' in failure(result)
    services = [{"name": "customer", "memory": "2048"}, {"name": "employee"}]
    result = apply(cloud, inputs(tmp_path, remote, services=services, taskdef_appspec_include_local_commits=True))
    assert commits(remote)[0] == mine


def test_a_pushed_memory_change_is_shown_and_stops_the_run_naming_the_setting(cloud, remote, tmp_path):
    extra = inputs(tmp_path, remote)
    apply(cloud, extra)
    folder = tmp_path / "deployment"
    mine = user_commit(folder, "taskdef-customer.json", more_memory, "more memory")
    git("push", "-q", "origin", "dev", cwd=str(folder))

    for check in (True, False):
        result = run_playbook(cloud, PLAY, extra_vars=extra, check=check)
        assert result.rc != 0
        message = failure(result)
        assert "taskdef-customer.json on branch dev, as commit %s (Jane" % mine[:12] in message, message
        assert 'memory is "2048" on the branch, "1024" from the inventory' in message, message
        assert '`memory: "2048"` in the entry of service customer in taskdef_appspec_services' in message
        assert "taskdef_appspec_overwrite: true" in message, message
        assert result.stats()["localhost"]["changed"] == 0
    assert commits(remote)[0] == mine and len(commits(remote)) == 2
    assert len(revisions(cloud, "customer-microservice")) == 1

    # The setting it names keeps the change: no commit, a revision with the memory.
    services = [{"name": "customer", "memory": "2048"}, {"name": "employee"}]
    apply(cloud, inputs(tmp_path, remote, services=services))
    assert commits(remote)[0] == mine
    latest = cloud.client("ecs").describe_task_definition(taskDefinition="customer-microservice")["taskDefinition"]
    assert latest["memory"] == "2048"

    # The flag replaces it, with a commit on top.
    again = apply(cloud, dict(extra, taskdef_appspec_overwrite=True))
    assert again.stats()["localhost"]["changed"] >= 1
    assert commits(remote)[1] == mine and len(commits(remote)) == 3
    assert '"memory": "1024"' in (folder / "taskdef-customer.json").read_text()


def test_a_folder_whose_origin_is_another_repository_is_refused_never_re_pointed(cloud, remote, tmp_path):
    apply(cloud, inputs(tmp_path, remote))
    folder = tmp_path / "deployment"
    second = tmp_path / "second.git"
    git("init", "--quiet", "--bare", str(second))
    extra = dict(inputs(tmp_path, remote), deploy_test_remote_url="file://%s" % second)

    for check in (True, False):
        result = run_playbook(cloud, PLAY, extra_vars=extra, check=check)
        assert result.rc != 0
        message = failure(result)
        assert "its origin is file://%s, another repository than file://%s (taskdef_appspec_remote_url)" % (
            remote, second) in message, message
        assert "taskdef_appspec_dir" in message
        assert result.stats()["localhost"]["changed"] == 0
    assert git("config", "--get", "remote.origin.url", cwd=str(folder)).strip() == "file://%s" % remote
    assert git("for-each-ref", cwd=str(second)) == ""
