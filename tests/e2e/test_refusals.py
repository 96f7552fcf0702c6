"""Runs that must change nothing: check mode on a fresh lab, and bad input,
which phase5.yml refuses before its first change to AWS or to the disk."""
import os
import re

import pytest

from localcloud.testing.cloud import free_port, LocalCloud

from helpers import changed_tasks, failure_messages, git, run_playbook
from helpers.phase5 import PHASE5, phase5_vars, snapshot

pytestmark = pytest.mark.slow

EMPTY = {"ecr": [], "images": {}, "stacks": [], "clusters": [], "task_definitions": [], "codecommit": []}


@pytest.fixture(scope="module")
def fresh(lab):
    """The lab's starting point, checked to hold nothing of Phase 5."""
    assert snapshot(lab) == EMPTY
    return lab


def test_check_mode_on_a_fresh_lab_predicts_and_creates_nothing(fresh, archives, tmp_path):
    result = run_playbook(fresh, PHASE5, extra_vars=phase5_vars(tmp_path, archives), check=True, diff=True)
    assert result.rc == 0, failure_messages(result)
    changed = changed_tasks(result)
    # What a learner is told would happen: repositories, images, stack, task
    # definitions, CodeCommit repository, files, commit.
    for expected in ("repository", "archive", "stack", "CodeCommit", "task definition", "commit"):
        assert any(expected.lower() in name.lower() for name in changed), (expected, changed)
    assert snapshot(fresh) == EMPTY
    assert not os.path.exists(tmp_path / "deployment")


def _other_branch_with_changes(tmp_path):
    folder = tmp_path / "deployment"
    git("init", "--quiet", "--initial-branch=main", str(folder))
    (folder / "notes.txt").write_text("work in progress\n")
    return {"taskdef_appspec_dir": str(folder)}


def _corrupt_archive(tmp_path):
    folder = tmp_path / "corrupt"
    folder.mkdir()
    for name in ("customer", "employee"):
        (folder / ("%s.oci.tar" % name)).write_bytes(os.urandom(4096))
    return {"image_push_archive_dir": str(folder)}


# (id, extra vars or a function of tmp_path giving them, what the message must name)
BAD_INPUTS = [
    ("uppercase-name", {"microservices": [{"name": "Customer"}]}, r"name 'Customer': a service name must be lower case"),
    ("port-0", {"microservices": [{"name": "customer", "port": 0}]},
     r"microservices\[0\] \(service customer\): port 0 is not a number from 1 to 65535"),
    ("port-70000", {"microservices": [{"name": "customer", "port": 70000}]}, r"port 70000 is not a number from 1 to 65535"),
    ("no-service", {"microservices": []}, r"microservices: it must list at least one service"),
    ("duplicated-service", {"microservices": [{"name": "customer"}, {"name": "customer"}]},
     r"two services have the same name 'customer'"),
    ("fargate-size", {"microservices": [{"name": "customer", "cpu": "256", "memory": "4096"}]},
     r"cpu 256 with memory 4096 is a pair Fargate refuses"),
    ("cpu-not-fargate", {"microservices": [{"name": "customer", "cpu": "300"}]}, r"cpu 300 is not a Fargate size"),
    # Issue 10: a misspelt key was ignored (port 8080 deployed); a string gave three dumps of internal specs.
    ("misspelt-key", {"microservices": [{"name": "customer", "prot": 9090}, {"name": "employee"}]},
     r"microservices\[0\] \(service customer\) has the unknown key 'prot' \(did you mean 'port'\?\); allowed keys: name, port"),
    ("services-as-string", {"microservices": "customer"},
     r"^[^\n]*Failed to validate microservices: it must be a list of services.*got the str 'customer'\)$"),
    ("unknown-vpc", {"aws_context_vpc_name": "NoSuchVPC"}, r"VPC with Name tag 'NoSuchVPC' not found.*aws_context_vpc_name"),
    ("unknown-subnet", {"aws_context_subnet_names": ["PublicSubnet1", "PublicSubnet9"]},
     r"Subnet\(s\) with Name tag 'PublicSubnet9' not found.*aws_context_subnet_names"),
    ("missing-role", {"aws_context_pipeline_role_name": "NoSuchRole"},
     r"IAM role 'NoSuchRole' not found.*aws_context_pipeline_role_name"),
    ("policy-scope", {"ecr_repos_policy_scope": "everyone"},
     r"value of ecr_repos_policy_scope must be one of: account, lab, got: everyone"),
    ("push-method", {"image_push_method": "ftp"}, r"value of image_push_method must be one of: .*got: ftp"),
    ("wrong-type", {"ecr_repos_untagged_keep": "many"}, r"ecr_repos_untagged_keep"),
    ("missing-archive", {"image_push_archive_dir": "/nonexistent/images"},
     r"service customer: bad image archive: /nonexistent/images/customer\.oci\.tar does not exist.*"
     r"image_push_archive_dir"),
    # Issue 10 item 5: random bytes in customer.oci.tar were found after the repositories were created.
    ("corrupt-archive", _corrupt_archive,
     r"service customer: bad image archive: .*/corrupt/customer\.oci\.tar is not a readable tar archive.*"
     r"image_push_archive_dir"),
    ("bad-cluster-name", {"fargate_cluster_requested_name": "my cluster!"}, r"fargate_cluster_requested_name"),
    ("bad-codecommit-name", {"codecommit_repo_name": "deploy ment"}, r"codecommit_repo_name"),
    ("deployment-folder-other-branch", _other_branch_with_changes,
     r"it is on branch 'main', not 'dev' \(taskdef_appspec_branch\).*it holds the untracked file notes\.txt"),
]


@pytest.mark.parametrize("extra,message", [pytest.param(e, m, id=i) for i, e, m in BAD_INPUTS])
def test_bad_input_is_refused_before_any_change(fresh, archives, tmp_path, extra, message):
    extra = extra(tmp_path) if callable(extra) else extra
    before_dir = sorted(os.listdir(tmp_path))
    result = run_playbook(fresh, PHASE5, extra_vars=phase5_vars(tmp_path, archives, **extra))
    assert result.rc != 0, "phase5 accepted %s" % extra
    messages = failure_messages(result)
    assert re.search(message, messages, re.S | re.M), messages
    # One message that names what the user sets: no internal role variable, no dump of a spec.
    assert len(messages.splitlines()) == 1, messages
    assert "argument_spec" not in messages and "_services" not in messages, messages
    assert result.stats()["localhost"]["changed"] == 0, changed_tasks(result)
    assert snapshot(fresh) == EMPTY
    assert sorted(os.listdir(tmp_path)) == before_dir


def test_unreachable_endpoint_is_refused_with_its_address(fresh, archives, tmp_path):
    # A cloud object that points at a port nobody listens on.
    nowhere = LocalCloud(tmp_path, port=free_port())
    result = run_playbook(nowhere, PHASE5, extra_vars=phase5_vars(tmp_path, archives),
                          env={"AWS_MAX_ATTEMPTS": "2"}, timeout=300)
    assert result.rc != 0
    messages = failure_messages(result)
    assert "Could not connect to the endpoint URL" in messages and nowhere.endpoint in messages, messages
    assert snapshot(fresh) == EMPTY
    assert not os.path.exists(tmp_path / "deployment")
