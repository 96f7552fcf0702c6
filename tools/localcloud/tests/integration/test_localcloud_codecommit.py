"""CodeCommit of the local cloud: botocore's shapes, real error codes, and git behind it."""
import base64
import os
import subprocess

import botocore.exceptions
import pytest

from localcloud.testing import require_binary
from localcloud.testing.wire import assert_conforms, error_codes, unvalidated_client, RawCapture

SERVICE = "codecommit"


@pytest.fixture
def cc(cloud):
    client = cloud.client(SERVICE)
    return client, RawCapture(client)


def _error(call, operation, expected_code):
    """Run `call`, check it fails with `expected_code`, HTTP 400, a code botocore knows for `operation`."""
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    error = info.value.response
    assert error["Error"]["Code"] == expected_code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert expected_code in error_codes(SERVICE, operation)
    return error


def git(*args, cwd=None):
    env = dict(os.environ, GIT_AUTHOR_NAME="Lab", GIT_AUTHOR_EMAIL="lab@example.com",
               GIT_COMMITTER_NAME="Lab", GIT_COMMITTER_EMAIL="lab@example.com",
               GIT_CONFIG_NOSYSTEM="1", HOME=cwd or os.getcwd())
    return subprocess.run(["git"] + list(args), cwd=cwd, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def pushed(cc, cloud, tmp_path):
    """Repository `deployment` made through the API, then a commit on `dev` pushed with plain git."""
    require_binary("git")
    client, raw = cc
    url = client.create_repository(repositoryName="deployment")["repositoryMetadata"]["cloneUrlHttp"]
    work = str(tmp_path / "deployment")
    git("clone", "-q", url, work, cwd=str(tmp_path))
    git("checkout", "-q", "-b", "dev", cwd=work)
    os.makedirs(os.path.join(work, "config"))
    files = {"taskdef-customer.json": b'{"family": "customer-microservice"}\n',
             "config/appspec.yaml": b"version: 0.0\n",
             "run.sh": b"#!/bin/sh\necho hi\n"}
    for path, content in files.items():
        with open(os.path.join(work, path), "wb") as handle:
            handle.write(content)
    os.chmod(os.path.join(work, "run.sh"), 0o755)
    os.symlink("taskdef-customer.json", os.path.join(work, "link.json"))
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "Task definitions and AppSpec", cwd=work)
    git("push", "-q", "origin", "dev", cwd=work)
    return {"url": url, "work": work, "files": files, "commit": git("rev-parse", "HEAD", cwd=work)}


def test_create_get_list_conform(cc):
    client, raw = cc
    made = client.create_repository(repositoryName="deployment", repositoryDescription="lab",
                                    tags={"lab": "phase5"})
    doc = assert_conforms(raw, SERVICE, "CreateRepository")["repositoryMetadata"]
    assert doc["repositoryName"] == "deployment"
    assert doc["accountId"] == "123456789012"
    assert doc["Arn"] == "arn:aws:codecommit:us-east-1:123456789012:deployment"
    assert doc["cloneUrlHttp"] == client.meta.endpoint_url + "/v1/repos/deployment"
    assert "defaultBranch" not in doc  # no branch before the first push
    got = client.get_repository(repositoryName="deployment")["repositoryMetadata"]
    assert_conforms(raw, SERVICE, "GetRepository")
    assert got["repositoryId"] == made["repositoryMetadata"]["repositoryId"]
    assert got["repositoryDescription"] == "lab"
    client.create_repository(repositoryName="another")
    listed = client.list_repositories()["repositories"]
    assert_conforms(raw, SERVICE, "ListRepositories")
    assert [r["repositoryName"] for r in listed] == ["another", "deployment"]
    backwards = client.list_repositories(sortBy="repositoryName", order="descending")["repositories"]
    assert [r["repositoryName"] for r in backwards] == ["deployment", "another"]


def test_update_description_and_delete(cc):
    client, raw = cc
    repo_id = client.create_repository(repositoryName="deployment")["repositoryMetadata"]["repositoryId"]
    client.update_repository_description(repositoryName="deployment", repositoryDescription="new text")
    assert_conforms(raw, SERVICE, "UpdateRepositoryDescription")
    assert client.get_repository(repositoryName="deployment")["repositoryMetadata"][
        "repositoryDescription"] == "new text"
    assert client.delete_repository(repositoryName="deployment")["repositoryId"] == repo_id
    assert_conforms(raw, SERVICE, "DeleteRepository")
    # AWS answers a delete of a missing repository with success and no id.
    assert "repositoryId" not in client.delete_repository(repositoryName="deployment")
    assert_conforms(raw, SERVICE, "DeleteRepository")
    assert client.list_repositories()["repositories"] == []


@pytest.mark.parametrize("name", ["bad name", "x" * 101, "repo.git", "ünïcode", "a/b"])
def test_invalid_names_refused(cc, name):
    client, raw = cc
    _error(lambda: client.create_repository(repositoryName=name),
           "CreateRepository", "InvalidRepositoryNameException")
    assert client.list_repositories()["repositories"] == []


def test_repository_errors(cc, cloud):
    client, raw = cc
    client.create_repository(repositoryName="deployment")
    _error(lambda: client.create_repository(repositoryName="deployment"),
           "CreateRepository", "RepositoryNameExistsException")
    _error(lambda: client.get_repository(repositoryName="missing"),
           "GetRepository", "RepositoryDoesNotExistException")
    loose = unvalidated_client(cloud, SERVICE)
    _error(lambda: loose.get_repository(repositoryName=""),
           "GetRepository", "RepositoryNameRequiredException")
    _error(lambda: client.update_repository_description(repositoryName="missing",
                                                        repositoryDescription="x"),
           "UpdateRepositoryDescription", "RepositoryDoesNotExistException")
    _error(lambda: client.update_repository_description(repositoryName="deployment",
                                                        repositoryDescription="x" * 1001),
           "UpdateRepositoryDescription", "InvalidRepositoryDescriptionException")
    _error(lambda: client.list_branches(repositoryName="missing"),
           "ListBranches", "RepositoryDoesNotExistException")
    _error(lambda: client.list_repositories(sortBy="size"), "ListRepositories", "InvalidSortByException")
    body = raw.json()
    assert body["__type"] == "InvalidSortByException" and body["message"]


def test_git_push_seen_through_the_api(cc, pushed):
    client, raw = cc
    meta = client.get_repository(repositoryName="deployment")["repositoryMetadata"]
    assert meta["defaultBranch"] == "dev"  # the first branch pushed, as on AWS

    assert client.list_branches(repositoryName="deployment")["branches"] == ["dev"]
    assert_conforms(raw, SERVICE, "ListBranches")

    branch = client.get_branch(repositoryName="deployment", branchName="dev")["branch"]
    assert_conforms(raw, SERVICE, "GetBranch")
    assert branch == {"branchName": "dev", "commitId": pushed["commit"]}

    commit = client.get_commit(repositoryName="deployment", commitId=pushed["commit"])["commit"]
    assert_conforms(raw, SERVICE, "GetCommit")
    assert commit["message"].strip() == "Task definitions and AppSpec"
    assert commit["author"]["email"] == "lab@example.com"
    assert commit["parents"] == []
    assert commit["treeId"] == git("rev-parse", "HEAD^{tree}", cwd=pushed["work"])

    for path, content in pushed["files"].items():
        got = client.get_file(repositoryName="deployment", filePath=path)
        doc = assert_conforms(raw, SERVICE, "GetFile")
        assert base64.b64decode(doc["fileContent"]) == content == got["fileContent"]
        assert got["commitId"] == pushed["commit"]
        assert got["fileSize"] == len(content)
        assert got["blobId"] == git("rev-parse", "HEAD:" + path, cwd=pushed["work"])
    assert client.get_file(repositoryName="deployment", filePath="run.sh")["fileMode"] == "EXECUTABLE"
    by_branch = client.get_file(repositoryName="deployment", filePath="/config/appspec.yaml",
                                commitSpecifier="dev")
    assert by_branch["fileContent"] == b"version: 0.0\n"

    root = client.get_folder(repositoryName="deployment", folderPath="/")
    assert_conforms(raw, SERVICE, "GetFolder")
    assert sorted(f["relativePath"] for f in root["files"]) == ["run.sh", "taskdef-customer.json"]
    assert [d["absolutePath"] for d in root["subFolders"]] == ["config"]
    assert [s["relativePath"] for s in root["symbolicLinks"]] == ["link.json"]
    sub = client.get_folder(repositoryName="deployment", folderPath="config",
                            commitSpecifier=pushed["commit"])
    assert_conforms(raw, SERVICE, "GetFolder")
    assert [f["absolutePath"] for f in sub["files"]] == ["config/appspec.yaml"]


def test_second_push_and_clone(cc, pushed, tmp_path):
    client, raw = cc
    work = pushed["work"]
    with open(os.path.join(work, "taskdef-customer.json"), "w") as handle:
        handle.write('{"family": "changed"}\n')
    git("commit", "-q", "-am", "change", cwd=work)
    git("push", "-q", "origin", "dev", cwd=work)
    head = git("rev-parse", "HEAD", cwd=work)
    assert client.get_branch(repositoryName="deployment", branchName="dev")["branch"]["commitId"] == head
    commit = client.get_commit(repositoryName="deployment", commitId=head)["commit"]
    assert commit["parents"] == [pushed["commit"]]
    old = client.get_file(repositoryName="deployment", filePath="taskdef-customer.json",
                          commitSpecifier=pushed["commit"])
    assert old["fileContent"] == pushed["files"]["taskdef-customer.json"]
    clone = str(tmp_path / "clone")
    git("clone", "-q", pushed["url"], clone, cwd=str(tmp_path))
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone) == "dev"
    assert git("rev-parse", "HEAD", cwd=clone) == head


def test_git_errors(cc, pushed, cloud):
    client, raw = cc
    _error(lambda: client.get_branch(repositoryName="deployment", branchName="main"),
           "GetBranch", "BranchDoesNotExistException")
    _error(lambda: client.get_file(repositoryName="deployment", filePath="missing.json"),
           "GetFile", "FileDoesNotExistException")
    _error(lambda: client.get_file(repositoryName="deployment", filePath="config"),
           "GetFile", "FileDoesNotExistException")
    _error(lambda: client.get_file(repositoryName="deployment", filePath="run.sh", commitSpecifier="nope"),
           "GetFile", "CommitDoesNotExistException")
    _error(lambda: client.get_folder(repositoryName="deployment", folderPath="missing"),
           "GetFolder", "FolderDoesNotExistException")
    _error(lambda: client.get_folder(repositoryName="deployment", folderPath="run.sh"),
           "GetFolder", "FolderDoesNotExistException")
    _error(lambda: client.get_commit(repositoryName="deployment", commitId="0" * 40),
           "GetCommit", "CommitIdDoesNotExistException")
    _error(lambda: client.get_commit(repositoryName="deployment", commitId="dev"),
           "GetCommit", "InvalidCommitIdException")
    _error(lambda: client.get_file(repositoryName="missing", filePath="run.sh"),
           "GetFile", "RepositoryDoesNotExistException")
    _error(lambda: unvalidated_client(cloud, SERVICE).get_file(repositoryName="deployment", filePath=""),
           "GetFile", "PathRequiredException")


def test_empty_repository_has_no_commit(cc):
    client, raw = cc
    client.create_repository(repositoryName="empty")
    assert client.list_branches(repositoryName="empty")["branches"] == []
    _error(lambda: client.get_file(repositoryName="empty", filePath="a"),
           "GetFile", "CommitDoesNotExistException")


def test_unknown_repository_is_not_served_over_git(cloud, tmp_path):
    require_binary("git")
    proc = subprocess.run(["git", "clone", "-q", cloud.endpoint + "/v1/repos/missing", str(tmp_path / "x")],
                          check=False, capture_output=True, text=True, env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
    assert proc.returncode != 0
    assert "not found" in proc.stderr.lower()


def test_reset_forgets_repositories(cc, cloud):
    client, raw = cc
    client.create_repository(repositoryName="deployment")
    cloud.reset()
    assert client.list_repositories()["repositories"] == []
