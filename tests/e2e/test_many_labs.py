"""Many labs from one inventory: two labs, each a host of the group cloudlab_labs on a local cloud of its own, run
by one ansible-playbook with two forks.

One pair of labs for the module, in this order: lab_environment.yml and site.yml on both (each converges, each in
its own deployment folder under HOME); site.yml again (nothing changes on either); then a bad port in lab2's host
vars while lab1 has drifted: lab2 fails in the plan, before any change, and lab1 converges back; the recap names
both. The single-lab inventories are the other e2e tests' (inventories/local, unchanged).
"""
import os
import shutil

import pytest

from localcloud import labs as localcloud_labs
from localcloud.testing.cloud import LocalCloud

from helpers import LAB_ENVIRONMENT, ROOT, run_playbook

from helpers.phase5 import FAMILIES, clone_url, snapshot

pytestmark = pytest.mark.slow

SITE = "playbooks/site.yml"
LABS = ("lab1", "lab2")
RECAP = "Say which labs converged and which a failure stopped"
# The settings every lab shares: the local inventory's.
LOCAL_VARS = os.path.join(ROOT, "inventories", "local", "group_vars", "all.yml")


def _run(labs, playbook, **kwargs):
    return run_playbook(None, playbook, args=("--forks", "2"), inventory=labs["inventory"],
                        env=labs["env"], **kwargs)


def _host_results(result, host):
    return [(task["task"]["name"], task["hosts"][host]) for play in result.data()["plays"]
            for task in play["tasks"] if host in task["hosts"]]


def _failures(result, host):
    return ["%s: %s" % (name, res.get("msg")) for name, res in _host_results(result, host) if res.get("failed")]


def _changed(result, host):
    return [name for name, res in _host_results(result, host) if res.get("changed")]


def _recap(result):
    (lines,) = [res["msg"] for _name, res in _host_results(result, "lab1") + _host_results(result, "lab2")
                if _name == RECAP and "msg" in res]
    return lines


def _write(labs, host_vars=None):
    localcloud_labs.write_inventory(labs["inventory"], dict((name, cloud.endpoint) for name, cloud in
                                                            labs["clouds"].items()), LOCAL_VARS, host_vars=host_vars)


@pytest.fixture(scope="module")
def labs(tmp_path_factory, archives):
    """Two local clouds, an inventory with a lab on each, their lab environment; site.yml once on both."""
    base = tmp_path_factory.mktemp("many-labs")
    clouds = {}
    try:
        for name in LABS:
            os.makedirs(str(base / name))
            clouds[name] = LocalCloud(base / name).start()
        home = base / "home"
        home.mkdir()
        # The environment of the clouds' LocalCloud.env() less the endpoint: each lab's is in its host vars.
        env = clouds["lab1"].env()
        for key in ("LOCALCLOUD_ENDPOINT", "AWS_ENDPOINT_URL"):
            env.pop(key)
        env["HOME"] = str(home)
        labs = {"clouds": clouds, "inventory": str(base / "inventory"), "env": env, "home": str(home),
                "extra": {"image_push_method": "archive", "image_push_archive_dir": archives[0]}}
        _write(labs)
        environment = _run(labs, LAB_ENVIRONMENT, json_output=False)
        assert environment.rc == 0, environment
        labs["first"] = _run(labs, SITE, extra_vars=labs["extra"])
        yield labs
    finally:
        for cloud in clouds.values():
            cloud.stop()
        shutil.rmtree(str(base), ignore_errors=True)


def test_two_labs_converge_in_one_run_each_in_its_own_folder(labs):
    first = labs["first"]
    assert first.rc == 0, "\n".join(_failures(first, "lab1") + _failures(first, "lab2")) or first
    for name, cloud in labs["clouds"].items():
        assert first.stats()[name]["failures"] == 0 and first.stats()[name]["changed"] > 0, first.stats()
        services = cloud.client("ecs").list_services(cluster="microservices-serverlesscluster")["serviceArns"]
        assert sorted(arn.rsplit("/", 1)[1] for arn in services) == sorted(FAMILIES), name
        # Each lab's deployment folder is its own, a clone of its own cloud's repository; none is ~/deployment.
        folder = os.path.join(labs["home"], "deployment-%s" % name)
        with open(os.path.join(folder, ".git", "config")) as handle:
            assert clone_url(cloud) in handle.read(), name
    assert not os.path.exists(os.path.join(labs["home"], "deployment"))
    assert clone_url(labs["clouds"]["lab1"]) != clone_url(labs["clouds"]["lab2"])
    assert _recap(first) == ["Labs converged (2 of 2): lab1, lab2"]


def test_a_rerun_changes_nothing_on_either_lab(labs):
    rerun = _run(labs, SITE, extra_vars=labs["extra"])
    assert rerun.rc == 0, "\n".join(_failures(rerun, "lab1") + _failures(rerun, "lab2")) or rerun
    for name in LABS:
        assert rerun.stats()[name]["changed"] == 0, (name, _changed(rerun, name))


def test_a_bad_input_of_one_lab_stops_that_lab_before_any_change_and_the_other_converges(labs):
    lab1, lab2 = labs["clouds"]["lab1"], labs["clouds"]["lab2"]
    # lab1 drifted by hand: its run has something to put back.
    elbv2 = lab1.client("elbv2")
    (group,) = elbv2.describe_target_groups(Names=["customer-tg-one"])["TargetGroups"]
    elbv2.modify_target_group(TargetGroupArn=group["TargetGroupArn"], HealthCheckPath="/drifted")
    # lab2's host vars give customer a port no container has.
    _write(labs, host_vars={"lab2": {"microservices": [
        {"name": "customer", "port": 0},
        {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}]}})
    before = snapshot(lab2)
    groups_before = lab2.client("elbv2").describe_target_groups()["TargetGroups"]
    try:
        result = _run(labs, SITE, extra_vars=labs["extra"])
    finally:
        _write(labs)
    assert result.rc != 0
    assert result.stats()["lab2"]["failures"] == 1 and result.stats()["lab2"]["changed"] == 0, result.stats()
    messages = "\n".join(_failures(result, "lab2"))
    assert "customer" in messages and "port" in messages, messages
    plays = [play["play"]["name"] for play in result.data()["plays"] if any(
        "lab2" in task["hosts"] for task in play["tasks"])]
    assert len(plays) == 1 and plays[0].startswith("Plan"), plays
    assert snapshot(lab2) == before
    assert lab2.client("elbv2").describe_target_groups()["TargetGroups"] == groups_before
    # lab1 went on to the end and put its target group back.
    assert result.stats()["lab1"]["failures"] == 0, _failures(result, "lab1")
    assert _changed(result, "lab1"), result.stats()
    (group,) = elbv2.describe_target_groups(Names=["customer-tg-one"])["TargetGroups"]
    assert group["HealthCheckPath"] == "/"
    assert _recap(result) == [
        "Labs converged (1 of 2): lab1",
        "Labs stopped by a failure, nothing more done on them (their failed task is above): lab2"]


def test_two_labs_in_one_account_and_region_are_both_refused_before_any_change(labs):
    """lab2 pointed at lab1's cloud under a lab name of its own: each lab is refused in the plan for sharing the
    account and region of the other, and lab2 also for the resources lab1 made there; destroy.yml of lab2 refuses
    to delete them; nothing changes."""
    lab1 = labs["clouds"]["lab1"]
    before = snapshot(lab1)
    groups_before = lab1.client("elbv2").describe_target_groups()["TargetGroups"]
    localcloud_labs.write_inventory(labs["inventory"], {"lab1": lab1.endpoint, "lab2": lab1.endpoint}, LOCAL_VARS,
                                    host_vars={"lab2": {"cloudlab_lab": "lab2"}})
    try:
        result = _run(labs, SITE, extra_vars=labs["extra"])
        # destroy.yml of lab2 alone deletes nothing lab1's lab made.
        destroyed = run_playbook(None, "playbooks/destroy.yml", extra_vars={"confirm": True}, args=("--limit", "lab2"),
                                 inventory=labs["inventory"], env=labs["env"])
    finally:
        _write(labs)
    assert destroyed.rc != 0 and destroyed.stats()["lab2"]["changed"] == 0
    (message,) = _failures(destroyed, "lab2")
    assert message.startswith("Refuse to delete what the collection made for another lab: ECR repository customer")
    assert result.rc != 0
    for name, other in (("lab1", "lab2"), ("lab2", "lab1")):
        assert result.stats()[name]["failures"] == 1 and result.stats()[name]["changed"] == 0, result.stats()
        (message,) = _failures(result, name)
        assert message.startswith("Refuse what a later phase would refuse, before any change: ")
        assert "The labs %s and %s of this inventory are the same account " % (name, other) in message, message
        assert " at %s: " % lab1.endpoint in message
    # lab2's read also found what the collection made there for lab1's lab (microservices).
    (message,) = _failures(result, "lab2")
    assert "ECR repository customer" in message and "cloudlab:lab=microservices" in message, message
    assert "cloudlab_lab: microservices" in message
    assert "cloudlab:lab=" not in _failures(result, "lab1")[0]
    assert snapshot(lab1) == before
    assert lab1.client("elbv2").describe_target_groups()["TargetGroups"] == groups_before
