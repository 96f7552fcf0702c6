"""Many labs from one inventory (module_utils/_labs.py): the hosts every play runs on, the per-lab folders, the
recap of a run on several labs; every playbook's plays use the one rule."""
import glob
import importlib
import os
import subprocess

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudlab.microservices.plugins.filter import labs as labs_filter
from ansible_collections.cloudlab.microservices.plugins.module_utils import _labs
from ansible_collections.cloudlab.microservices.plugins.module_utils import _summary

from helpers import ROOT, run_aws_module

ONE_LAB = {"all": ["localhost"], "ungrouped": ["localhost"]}
TWO_LABS = {"all": ["dev", "prod"], "ungrouped": [], "cloudlab_labs": ["dev", "prod"]}
HOSTS = "{{ groups | cloudlab.microservices.lab_hosts }}"


def test_a_play_runs_on_the_group_of_labs_or_on_localhost():
    assert _labs.play_hosts(ONE_LAB) == "localhost"
    assert _labs.play_hosts(TWO_LABS) == "cloudlab_labs"
    # A group of one lab is the group still (its host may be named anything).
    assert _labs.play_hosts({"all": ["lab"], "cloudlab_labs": ["lab"]}) == "cloudlab_labs"
    with pytest.raises(_labs.LabsError, match="inventory's groups"):
        _labs.play_hosts(["localhost"])


def test_one_lab_keeps_its_folder_several_get_one_each():
    assert _labs.lab_path("~/deployment", "localhost", ONE_LAB) == "~/deployment"
    assert _labs.lab_path("~/deployment", "lab", {"all": ["lab"], "cloudlab_labs": ["lab"]}) == "~/deployment"
    assert _labs.lab_path("~/deployment", "dev", TWO_LABS) == "~/deployment-dev"
    assert _labs.lab_path("~/deployment/", "prod", TWO_LABS) == "~/deployment-prod"
    # A host name is kept to what a file name takes: two labs never share a folder, none escapes it.
    assert _labs.lab_path("/srv/deployment", "eu/west:1", TWO_LABS) == "/srv/deployment-eu-west-1"
    assert _labs.lab_path("/srv/deployment", "../x", TWO_LABS) == "/srv/deployment-x"
    with pytest.raises(_labs.LabsError, match="nothing a file name can keep"):
        _labs.lab_path("/srv/deployment", "///", TWO_LABS)
    with pytest.raises(_labs.LabsError, match="must be a folder"):
        _labs.lab_path("", "dev", TWO_LABS)


def test_the_recap_names_the_labs_a_failure_stopped():
    assert _labs.recap(["a", "b", "c"], ["a", "c"]) == {"converged": ["a", "c"], "failed": ["b"]}
    lines = _summary.summary(_labs.recap(["a", "b", "c"], ["a", "c"]), "labs")
    assert lines == ["Labs converged (2 of 3): a, c",
                     "Labs stopped by a failure, nothing more done on them (their failed task is above): b"]
    assert _summary.summary(_labs.recap(["a", "b"], ["a", "b"]), "labs", "fr") == ["Labs convergés (2 sur 2) : a, b"]
    with pytest.raises(_labs.LabsError, match="ansible_play_hosts"):
        _labs.recap("a", ["a"])


def test_two_labs_in_one_account_and_region_are_each_refused():
    read = {"account_id": "111122223333", "region": "us-east-1"}
    aws = {"region": "us-east-1"}
    assert _labs.place(read, aws) == ("AWS", "111122223333", "us-east-1")
    assert _labs.place(read, {"endpoint_url": "http://127.0.0.1:4566"}) == (
        "http://127.0.0.1:4566", "111122223333", "us-east-1")
    # No read, or a failed one: that lab stopped on its own failure, it shares nothing.
    assert _labs.place(None, aws) is None and _labs.place({"failed": True}, aws) is None
    places = {"a": _labs.place(read, aws), "b": _labs.place(dict(read, region="us-west-2"), aws),
              "c": _labs.place(read, aws), "d": None,
              # The same account number behind another endpoint (each local cloud has it): another place.
              "e": _labs.place(read, {"endpoint_url": "http://127.0.0.1:4567"})}
    shared = _labs.sharing(places)
    assert sorted(shared) == ["a", "c"]
    assert shared["a"].startswith("The labs a and c of this inventory are the same account 111122223333 in "
                                  "us-east-1: ")
    assert shared["c"].startswith("The labs c and a ")
    assert "cloudlab_aws_connection" in shared["a"] and "nothing changed" in shared["a"]
    assert _labs.sharing({"a": places["a"], "b": places["b"]}) == {}
    local = _labs.sharing({"x": places["e"], "y": places["e"]})
    assert " in us-east-1 at http://127.0.0.1:4567: " in local["x"]
    # The filter reads each host's read and connection from hostvars.
    hostvars = {"a": {"__lab_read": read, "cloudlab_aws_connection": aws},
                "c": {"__lab_read": read, "cloudlab_aws_connection": aws}, "d": {}}
    assert sorted(labs_filter.labs_sharing(["a", "c", "d"], hostvars)) == ["a", "c"]
    assert labs_filter.labs_sharing(["a", "d"], hostvars) == {}
    with pytest.raises(AnsibleFilterError, match="labs_sharing: give the magic variable hostvars"):
        labs_filter.labs_sharing(["zz"], hostvars)


def test_the_filters_say_which_filter_failed():
    labs = importlib.import_module("ansible_collections.cloudlab.microservices.plugins.filter.labs")
    assert labs.lab_hosts(TWO_LABS) == "cloudlab_labs"
    assert labs.lab_path("~/deployment", "dev", TWO_LABS) == "~/deployment-dev"
    with pytest.raises(Exception, match="^lab_path: the host must be"):
        labs.lab_path("~/deployment", None, TWO_LABS)


def test_every_play_of_the_playbooks_runs_on_the_labs():
    """A play of playbooks/ on `localhost` would run one lab only, whatever the inventory holds."""
    wrong = []
    for path in sorted(glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))):
        with open(path) as handle:
            plays = yaml.safe_load(handle)
        for play in plays:
            if not any(key.endswith("import_playbook") for key in play) and play.get("hosts") != HOSTS:
                wrong.append("%s: %s" % (os.path.basename(path), play.get("name")))
    assert wrong == []


def test_the_deployment_folder_defaults_per_lab_in_the_role_and_the_playbooks_that_miss_it():
    with open(os.path.join(ROOT, "roles", "taskdef_appspec", "defaults", "main.yml")) as handle:
        default = yaml.safe_load(handle)["taskdef_appspec_dir"]
    assert "cloudlab.microservices.lab_path(inventory_hostname, groups)" in default
    for name in ("prune.yml", "phase5_destroy.yml"):
        with open(os.path.join(ROOT, "playbooks", name)) as handle:
            text = handle.read()
        assert "taskdef_appspec_dir | default('~/deployment' | cloudlab.microservices.lab_path(" in text, name


def test_each_labs_aws_credentials_reach_git_and_its_credential_helper(tmp_path, monkeypatch, capsys):
    """git_deployment_repo is in the aws action group: the lab's connection (module_defaults) is git's environment,
    so that a lab's push signs with its own account's keys or profile, not with the controller's."""
    module = importlib.import_module("ansible_collections.cloudlab.microservices.plugins.modules.git_deployment_repo")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    # A pre-push hook of every repository (git's config from the environment) writes what git's environment holds.
    hooks, seen = tmp_path / "hooks", tmp_path / "seen"
    hooks.mkdir()
    (hooks / "pre-push").write_text("#!/bin/sh\nenv | grep '^AWS_' | sort > %s\n" % seen)
    (hooks / "pre-push").chmod(0o755)
    for key, value in {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath", "GIT_CONFIG_VALUE_0": str(hooks),
                       "AWS_ACCESS_KEY_ID": "CONTROLLERKEY", "AWS_SESSION_TOKEN": "controller-token"}.items():
        monkeypatch.setenv(key, value)
    args = {"path": str(tmp_path / "deployment"), "remote_url": "file://%s" % remote,
            "files": {"appspec-customer.yaml": "version: 0.0\n"},
            "access_key": "LABKEY", "secret_key": "lab-secret", "session_token": "lab-token", "profile": ""}
    result = run_aws_module(module.main, args, capsys, region="eu-west-3")
    assert result.get("changed") and not result.get("failed"), result
    lines = seen.read_text().splitlines()
    assert "AWS_ACCESS_KEY_ID=LABKEY" in lines and "AWS_SECRET_ACCESS_KEY=lab-secret" in lines
    assert "AWS_REGION=eu-west-3" in lines and "AWS_SESSION_TOKEN=lab-token" in lines
    assert "lab-secret" not in json_text(result) and "lab-token" not in json_text(result)
    # Without them (a play with no module_defaults), the environment's own.
    assert module.aws_environment({"profile": None, "access_key": None, "region": None}) == {}
    assert module.aws_environment({"profile": "academy-prod"}) == {"AWS_PROFILE": "academy-prod"}


def json_text(value):
    import json
    return json.dumps(value)
