"""The deployment repository with real git: what is refused before any change, what converges."""
import functools
import os
import subprocess

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _deployment_repo as _repo

import helpers

IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
FILES = {"taskdef-customer.json": '{"family": "customer-microservice"}\n',
         "appspec-customer.yaml": "version: 0.0\n"}
NAMES = {"path": "taskdef_appspec_dir", "branch": "taskdef_appspec_branch",
         "remote_url": "taskdef_appspec_remote_url", "overwrite_local_changes": "taskdef_appspec_overwrite_local_changes"}


def run(argv, env):
    proc = subprocess.run(argv, env=dict(os.environ, **env), capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


# git as the tests' own user (the module's commits carry the identity it is given).
git = functools.partial(helpers.git, env=IDENTITY)


@pytest.fixture(autouse=True)
def _git():
    if not subprocess.run(["git", "--version"], capture_output=True, check=False).returncode == 0:
        pytest.skip("git is not installed")


@pytest.fixture
def remote(tmp_path):
    path = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(path))
    return "file://%s" % path


def repo(path, remote="", files=None, check=False, **kwargs):
    warnings = []
    r = _repo.DeploymentRepo(run, str(path), "dev", dict(files or FILES), remote_url=remote, identity=IDENTITY,
                             var_names=NAMES, warn=warnings.append, **kwargs)
    try:
        plan = r.inspect()
        if check:
            return plan, None, warnings
        settings = r.settings_to_write(plan)
        head, done = r.apply(plan, settings)
        return plan, done, warnings
    finally:
        r.close()


def tree(path):
    return sorted(os.listdir(str(path)))


def test_first_run_inits_commits_pushes_and_a_second_changes_nothing(tmp_path, remote):
    folder = tmp_path / "deployment"
    _plan, done, _w = repo(folder, remote)
    assert done[0].startswith("created the repository") and "committed" in done and "pushed dev" in done
    assert git("ls-remote", remote, "refs/heads/dev", cwd=str(tmp_path)).split()[0] == git(
        "rev-parse", "HEAD", cwd=str(folder))
    plan, done, _w = repo(folder, remote)
    assert done == [] and plan["relation"] == "same"


def test_check_mode_predicts_and_writes_nothing(tmp_path, remote):
    folder = tmp_path / "deployment"
    plan, _done, _w = repo(folder, remote, check=True)
    assert plan["create"] == "init" and plan["commit"] and plan["push"]
    # What --diff shows: each file before and after.
    assert [(d["before"], d["after"]) for d in plan["diff"]] == [("", text) for text in FILES.values()]
    assert not folder.exists()


def test_clone_of_an_up_to_date_remote_predicts_no_commit(tmp_path, remote):
    repo(tmp_path / "first", remote)
    plan, _d, _w = repo(tmp_path / "second", remote, check=True)
    assert plan["create"] == "clone" and not plan["commit"] and not plan["push"]
    assert not (tmp_path / "second").exists()
    _plan, done, _w = repo(tmp_path / "second", remote)
    assert done[0].startswith("cloned") and "committed" not in done


def test_uncommitted_edit_to_a_managed_file_is_refused_before_any_change(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    with open(str(folder / "taskdef-customer.json"), "a") as handle:
        handle.write("x\n")
    changed = dict(FILES, **{"appspec-customer.yaml": "version: 0.1\n"})
    head = git("rev-parse", "HEAD", cwd=str(folder))
    with pytest.raises(_repo.RepoError) as info:
        repo(folder, remote, files=changed)
    msg = str(info.value)
    assert "uncommitted changes to taskdef-customer.json" in msg
    assert "git -C %s checkout HEAD -- taskdef-customer.json" % folder in msg
    assert "taskdef_appspec_overwrite_local_changes: true" in msg and "\n" not in msg
    assert (folder / "taskdef-customer.json").read_text().endswith("x\n")
    assert (folder / "appspec-customer.yaml").read_text() == "version: 0.0\n"
    assert git("rev-parse", "HEAD", cwd=str(folder)) == head

    _plan, done, warnings = repo(folder, remote, files=changed, overwrite_local_changes=True)
    assert (folder / "taskdef-customer.json").read_text() == FILES["taskdef-customer.json"]
    assert "committed" in done and any("Overwriting" in w for w in warnings)


def test_an_edit_equal_to_the_desired_content_is_not_someones_work(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    changed = dict(FILES, **{"appspec-customer.yaml": "version: 0.1\n"})
    (folder / "appspec-customer.yaml").write_text("version: 0.1\n")
    _plan, done, _w = repo(folder, remote, files=changed)
    assert "committed" in done


def test_folder_that_is_a_file_names_the_variable_and_the_value(tmp_path):
    path = tmp_path / "deployment"
    path.write_text("not a folder\n")
    with pytest.raises(_repo.RepoError) as info:
        repo(path)
    assert str(info.value).startswith("Failed to use the deployment folder %s (taskdef_appspec_dir): it is a file" % path)


def test_untracked_file_is_named_as_such_not_as_a_branch_problem(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    (folder / "notes.txt").write_text("wip\n")
    with pytest.raises(_repo.RepoError) as info:
        repo(folder, remote)
    msg = str(info.value)
    assert "untracked file notes.txt" in msg and "branch" not in msg


def test_other_branch_is_refused(tmp_path):
    folder = tmp_path / "deployment"
    git("init", "--quiet", "--initial-branch=main", str(folder))
    with pytest.raises(_repo.RepoError) as info:
        repo(folder)
    assert "on branch 'main', not 'dev' (taskdef_appspec_branch)" in str(info.value)
    assert tree(folder) == [".git"]


def test_behind_is_fast_forwarded_then_committed(tmp_path, remote):
    first, second = tmp_path / "first", tmp_path / "second"
    repo(first, remote)
    repo(second, remote)
    changed = dict(FILES, **{"appspec-customer.yaml": "version: 0.1\n"})
    repo(first, remote, files=changed)
    plan, done, _w = repo(second, remote, files=dict(changed, **{"taskdef-customer.json": "{}\n"}))
    assert plan["relation"] == "behind" and any(d.startswith("fast-forwarded") for d in done)
    assert "pushed dev" in done
    assert git("rev-list", "--count", "dev", cwd=str(second)) == "3"


def test_diverged_is_refused_and_nothing_changes(tmp_path, remote):
    first, second = tmp_path / "first", tmp_path / "second"
    repo(first, remote)
    repo(second, remote)
    repo(first, remote, files=dict(FILES, **{"appspec-customer.yaml": "version: 0.1\n"}))
    (second / "README").write_text("local\n")
    git("add", "README", cwd=str(second))
    git("commit", "-q", "-m", "local", cwd=str(second))
    head = git("rev-parse", "HEAD", cwd=str(second))
    refs = git("for-each-ref", cwd=str(second))
    for check in (True, False):
        with pytest.raises(_repo.RepoError) as info:
            repo(second, remote, files=dict(FILES, **{"appspec-customer.yaml": "version: 0.2\n"}), check=check)
        assert "have diverged (1 local commit(s) the remote lacks, 1 remote commit(s)" in str(info.value)
    assert git("rev-parse", "HEAD", cwd=str(second)) == head
    assert git("for-each-ref", cwd=str(second)) == refs
    assert (second / "appspec-customer.yaml").read_text() == "version: 0.0\n"


def test_https_remote_gets_the_helper_for_its_url_only(tmp_path):
    folder = tmp_path / "deployment"
    r = _repo.DeploymentRepo(run, str(folder), "dev", FILES, remote_url="https://git.example.invalid/v1/repos/d",
                             credential_helper="!aws codecommit credential-helper $@")
    assert r.remote_settings()["credential.https://git.example.invalid/v1/repos/d.helper"] == (
        "!aws codecommit credential-helper $@")
    assert _repo.redact("https://user:secret@example.invalid/x") == "https://***@example.invalid/x"


def test_status_parser_skips_rename_sources():
    raw = "R  new.json\0old.json\0?? notes.txt\0 M appspec-customer.yaml\0"
    assert _repo.parse_status(raw) == [("R ", "new.json"), ("??", "notes.txt"), (" M", "appspec-customer.yaml")]


def test_a_deleted_managed_file_is_written_back_without_a_commit(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    (folder / "appspec-customer.yaml").unlink()
    plan, _d, _w = repo(folder, remote, check=True)
    assert [f["name"] for f in plan["files"] if f["changed"]] == ["appspec-customer.yaml"] and not plan["commit"]
    _plan, done, _w = repo(folder, remote)
    assert done == ["wrote appspec-customer.yaml"]
    assert (folder / "appspec-customer.yaml").read_text() == FILES["appspec-customer.yaml"]


def test_the_helper_is_given_on_the_command_line_only_until_the_repository_has_it(tmp_path):
    url = "https://git.example.invalid/v1/repos/deployment"
    folder = tmp_path / "deployment"
    git("init", "--quiet", "--initial-branch=dev", str(folder))
    seen = []

    def recording(argv, env):
        seen.append(argv)
        return 0, "", ""

    r = _repo.DeploymentRepo(recording, str(folder), "dev", FILES, remote_url=url,
                             credential_helper="!aws codecommit credential-helper $@")
    r.git("ls-remote", url, url=url)
    assert "credential.%s.helper=!aws codecommit credential-helper $@" % url in seen[-1]
    git("config", "credential.%s.helper" % url, "!aws codecommit credential-helper $@", cwd=str(folder))

    def config_only(argv, env):
        # Real git reads the repository's config; nothing reaches the network.
        seen.append(argv)
        return run(argv, env) if "config" in argv else (0, "", "")

    r = _repo.DeploymentRepo(config_only, str(folder), "dev", FILES, remote_url=url,
                             credential_helper="!aws codecommit credential-helper $@")
    r.git("ls-remote", url, url=url)
    assert not any(a.startswith("credential.") for a in seen[-1])


# Issue 20 item 1: the user's git work. The collection pushes only its own commits.

from ansible_collections.cloudlab.microservices.plugins.module_utils import _taskdef
NAMES.update(include_local_commits="taskdef_appspec_include_local_commits",
             overwrite_commits="taskdef_appspec_overwrite", files="taskdef_appspec_services")


def git_as(name, email, *args, cwd=None):
    return helpers.git(*args, cwd=cwd, strip=False, env=dict(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
                                                             GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email))


def user_commit(folder, name, text, message="my change"):
    (folder / name).write_text(text)
    git("add", name, cwd=str(folder))
    git_as("Jane", "jane@example.invalid", "commit", "-q", "-m", message, cwd=str(folder))
    return git("rev-parse", "HEAD", cwd=str(folder))


def remote_head(remote, tmp_path):
    out = git("ls-remote", remote, "refs/heads/dev", cwd=str(tmp_path))
    return out.split()[0] if out else ""


def test_the_modules_commits_carry_the_trailer_and_are_the_collections(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    assert git("log", "-1", "--format=%(trailers:key=Managed-By,valueonly)", cwd=str(folder)) == (
        "cloudlab.microservices")
    raw = git_as("t", "t@example.invalid", "log", "-z", "--no-renames", "--name-only",
                 "--format=" + _repo._LOG_FORMAT, cwd=str(folder))
    commits = _repo.parse_log(raw)
    assert [sorted(c["files"]) for c in commits] == [sorted(FILES)]
    assert _repo.is_collections(commits[0], FILES)
    assert not _repo.is_collections(commits[0], ["taskdef-customer.json"])  # touches another file
    legacy = dict(commits[0], managed_by=[], author="cloudlab.microservices", email="cloudlab.microservices@localhost")
    assert _repo.is_collections(legacy, FILES)
    assert not _repo.is_collections(dict(legacy, author="Jane"), FILES)
    assert not _repo.is_collections(dict(commits[0], parents=["a", "b"]), FILES)  # a merge


def test_an_unpushed_commit_of_the_user_is_refused_naming_it_and_nothing_is_pushed(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    pushed = remote_head(remote, tmp_path)
    mine = user_commit(folder, "taskdef-customer.json", '{"family": "customer-microservice", "memory": "2048"}\n')
    changed = dict(FILES, **{"appspec-customer.yaml": "version: 0.1\n"})
    for check in (True, False):
        with pytest.raises(_repo.RepoError) as info:
            repo(folder, remote, files=changed, check=check)
        msg = str(info.value)
        assert "1 local commit(s) not on branch dev of %s that are not this collection's" % remote in msg
        assert '%s (Jane <jane@example.invalid>, "my change")' % mine[:12] in msg
        assert "git -C %s push origin dev" % folder in msg
        assert "taskdef_appspec_include_local_commits: true" in msg and "\n" not in msg
    assert remote_head(remote, tmp_path) == pushed
    assert git("rev-parse", "HEAD", cwd=str(folder)) == mine
    assert (folder / "appspec-customer.yaml").read_text() == "version: 0.0\n"


def test_include_local_commits_pushes_the_users_commit_with_a_warning(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    mine = user_commit(folder, "README", "notes\n")
    plan, done, warnings = repo(folder, remote, include_local_commits=True,
                                files=dict(FILES, **{"appspec-customer.yaml": "version: 0.1\n"}))
    assert [c["sha"] for c in plan["local_commits"]] == [mine]
    assert "pushed dev" in done and any(mine[:12] in w for w in warnings)
    assert git("rev-parse", "HEAD~1", cwd=str(folder)) == mine == git("rev-parse", "dev~1", cwd=str(tmp_path / "remote.git"))


def test_the_collections_own_unpushed_commits_go_to_a_new_remote(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder)  # no remote yet: a local commit of the collection
    _plan, done, _w = repo(folder, remote)
    assert "pushed dev" in done
    # A commit of 1.0.0 (its default author, no trailer) counts as the collection's too.
    (folder / "appspec-customer.yaml").write_text("version: 0.1\n")
    git_as("cloudlab.microservices", "cloudlab.microservices@localhost",
           "commit", "-q", "-am", "Update task definitions and AppSpec files", cwd=str(folder))
    plan, done, _w = repo(folder, remote, files=dict(FILES, **{"appspec-customer.yaml": "version: 0.1\n"}))
    assert plan["relation"] == "ahead" and plan["local_commits"] == [] and "pushed dev" in done


def test_a_pushed_change_of_the_user_is_shown_with_the_setting_and_refused_before_any_change(tmp_path, remote):
    folder = tmp_path / "deployment"
    built = _taskdef.build([dict(name="customer", port=8080, cpu="512", memory="1024")], dict(
        region="us-east-1", execution_role_arn="arn:aws:iam::123456789012:role/PipelineRole", db_host="db"))["files"]
    repo(folder, remote, files=built)
    user_commit(folder, "taskdef-customer.json",
                built["taskdef-customer.json"].replace('"memory": "1024"', '"memory": "2048"'), "more memory")
    git("push", "-q", "origin", "dev", cwd=str(folder))
    pushed = remote_head(remote, tmp_path)
    for check in (True, False):
        with pytest.raises(_repo.RepoError) as info:
            repo(folder, remote, files=built, check=check, explain=_taskdef.explain_change)
        msg = str(info.value)
        assert "taskdef-customer.json on branch dev, as commit %s" % pushed[:12] in msg
        assert '"more memory"' in msg
        assert 'memory is "2048" on the branch, "1024" from the inventory' in msg
        assert '`memory: "2048"` in the entry of service customer in taskdef_appspec_services' in msg
        assert "taskdef_appspec_overwrite: true" in msg and "\n" not in msg
    assert remote_head(remote, tmp_path) == pushed == git("rev-parse", "HEAD", cwd=str(folder))
    assert '"2048"' in (folder / "taskdef-customer.json").read_text()

    # The flag: a commit on top, the user's commit kept in the history, a warning.
    plan, done, warnings = repo(folder, remote, files=built, overwrite_commits=True, explain=_taskdef.explain_change)
    assert [c["name"] for c in plan["user_changes"]] == ["taskdef-customer.json"]
    assert "committed" in done and "pushed dev" in done and any("more memory" in w for w in warnings)
    assert git("rev-parse", "HEAD~1", cwd=str(folder)) == pushed
    assert (folder / "taskdef-customer.json").read_text() == built["taskdef-customer.json"]
    # Then the file is the collection's again: no refusal, nothing to do.
    _plan, done, _w = repo(folder, remote, files=built, explain=_taskdef.explain_change)
    assert done == []


def test_a_users_change_the_inventory_now_gives_is_not_refused(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    user_commit(folder, "appspec-customer.yaml", "version: 0.1\n")
    git("push", "-q", "origin", "dev", cwd=str(folder))
    _plan, done, _w = repo(folder, remote, files=dict(FILES, **{"appspec-customer.yaml": "version: 0.1\n"}))
    assert done == []


def test_a_change_pushed_from_elsewhere_is_refused_before_the_fast_forward(tmp_path, remote):
    first, other = tmp_path / "deployment", tmp_path / "other"
    repo(first, remote)
    git("clone", "-q", "--branch", "dev", remote, str(other))
    user_commit(other, "appspec-customer.yaml", "version: 9\n", "by hand")
    git("push", "-q", "origin", "dev", cwd=str(other))
    head = git("rev-parse", "HEAD", cwd=str(first))
    with pytest.raises(_repo.RepoError) as info:
        repo(first, remote)
    msg = str(info.value)
    assert "appspec-customer.yaml on branch dev" in msg and "\"by hand\"" in msg
    assert "line 1: 'version: 9' on the branch, 'version: 0.0' desired" in msg
    assert git("rev-parse", "HEAD", cwd=str(first)) == head


def test_a_folder_whose_origin_is_another_repository_is_refused_and_not_re_pointed(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    second = tmp_path / "second.git"
    git("init", "--quiet", "--bare", str(second))
    config = (folder / ".git" / "config").read_text()
    for check in (True, False):
        with pytest.raises(_repo.RepoError) as info:
            repo(folder, "file://%s" % second, check=check)
        msg = str(info.value)
        assert "its origin is %s, another repository than file://%s (taskdef_appspec_remote_url)" % (
            remote, second) in msg
        assert "git -C %s remote set-url origin file://%s" % (folder, second) in msg
    assert (folder / ".git" / "config").read_text() == config
    assert git("for-each-ref", cwd=str(second)) == ""


def test_a_file_whose_text_is_none_is_removed_with_a_commit_check_mode_predicting_it(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    gone = {"taskdef-customer.json": None, "appspec-customer.yaml": None}
    plan, _d, _w = repo(folder, remote, files=gone, check=True)
    assert plan["commit"] and plan["push"] and [f["remove"] for f in plan["files"]] == [True, True]
    assert [(d["before"], d["after"]) for d in plan["diff"]] == [(text, "") for text in FILES.values()]
    assert tree(folder) == sorted([".git"] + list(FILES))
    _plan, done, _w = repo(folder, remote, files=gone)
    assert done == ["removed taskdef-customer.json, appspec-customer.yaml", "committed", "pushed dev"]
    assert tree(folder) == [".git"]
    assert git("ls-tree", "--name-only", remote_head(remote, tmp_path), cwd=str(folder)) == ""
    assert git("log", "-1", "--format=%(trailers:key=Managed-By,valueonly)", cwd=str(folder)) == (
        "cloudlab.microservices")
    plan, done, _w = repo(folder, remote, files=gone)
    assert done == [] and not plan["commit"]


def test_a_file_to_remove_that_a_users_commit_made_is_refused(tmp_path, remote):
    folder = tmp_path / "deployment"
    repo(folder, remote)
    user_commit(folder, "taskdef-customer.json", '{"family": "customer-microservice", "memory": "2048"}\n')
    git("push", "-q", "origin", "dev", cwd=str(folder))
    with pytest.raises(_repo.RepoError) as info:
        repo(folder, remote, files={"taskdef-customer.json": None})
    assert "Jane" in str(info.value)
    assert (folder / "taskdef-customer.json").exists()
