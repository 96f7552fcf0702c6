"""playbooks/status.yml on the local cloud, as the life of one lab: fresh (only what an AWS Academy lab
holds), half made (Phase 5 only), converged (Phases 6 to 8 too, each pipeline's first execution ended),
then one drift. Every run reads only (the local cloud's request log) and reports no change.

The lab is built by the playbooks themselves, as in tests/e2e/artifact/test_output.py (Phase 5 from
the sample images' archives) and tests/e2e/release/test_rerun.py (Phases 6 to 8 in one run, on the
release suite's cloud, whose CodeDeploy termination wait is short).
"""
import json
import os
import re
import urllib.request

import pytest

from localcloud.testing.lab import wait_execution

from helpers import LAB_ENVIRONMENT, failure_messages, run_playbook
from helpers.phase5 import PHASE5, phase5_vars

STATUS = "playbooks/status.yml"
PHASES6TO8 = os.path.join("tests", "e2e", "release", "plays", "phases6to8.yml")
SERVICES = ("customer", "employee")
PHASE5_TASKS = ("5.1", "5.2", "5.3", "5.4", "5.5", "5.6")
LATER_TASKS = ("6.1", "6.2", "6.3", "7.1", "7.2", "8.1", "8.2")
# S3 calls are logged as "<method> <path>".
READ = re.compile(r"^(Describe|List|Get|BatchGet|HEAD |GET )")


def _post(cloud, path):
    urllib.request.urlopen(urllib.request.Request(cloud.endpoint + path, data=b"", method="POST"), timeout=10)


def test_unknown_format_is_refused(release_cloud):  # noqa: F811
    result = run_playbook(release_cloud, STATUS, extra_vars={"status_format": "yaml"})
    assert result.rc != 0
    assert "status_format is yaml: use text (the default) or json" in result.stdout


def test_unknown_language_is_refused(release_cloud):  # noqa: F811
    result = run_playbook(release_cloud, STATUS, extra_vars={"cloudlab_lang": "de"})
    assert result.rc != 0
    assert "cloudlab_lang is 'de': use en (the default) or fr" in failure_messages(result)
    assert not [task for play in result.data()["plays"] for task in play["tasks"]
                if task["task"]["name"] == "Read the whole lab, read only"]


def writes_seen(cloud):
    """Every AWS operation the local cloud answered since the last reset of its log that is not a read."""
    with urllib.request.urlopen(cloud.endpoint + "/_localcloud/requests", timeout=10) as resp:
        seen = json.load(resp)["services"]
    return sorted("%s:%s" % (svc, op) for svc, ops in seen.items() for op in ops if not READ.match(op))


def status(cloud, fmt="json", check=False, **extra):
    """(JSON document, checklist by task) of a status.yml run that must change and write nothing."""
    _post(cloud, "/_localcloud/requests/reset")
    result = run_playbook(cloud, STATUS, extra_vars=dict(extra, status_format=fmt), check=check)
    assert result.rc == 0, result
    assert result.stats()["localhost"]["changed"] == 0
    assert writes_seen(cloud) == []
    shown = [task["hosts"]["localhost"]["msg"] for play in result.data()["plays"] for task in play["tasks"]
             if task["task"]["name"].startswith("Show where the lab stands")
             and not task["hosts"]["localhost"].get("skipped")]
    assert len(shown) == 1, result
    if fmt == "text":
        return shown[0]
    doc = json.loads(shown[0])
    return doc, dict((item["task"], item) for item in doc["checklist"])


def states(items, tasks):
    return dict((task, items[task]["state"]) for task in tasks)


@pytest.mark.slow
def test_status_fresh_half_made_converged_drifted(release_cloud, archives, tmp_path):  # noqa: F811
    cloud = release_cloud  # its CodeDeploy waits are short: the pipelines' first executions end at once
    cloud.reset()
    assert run_playbook(cloud, LAB_ENVIRONMENT, json_output=False).rc == 0
    # Fresh: everything missing, rc 0, and the text says so task by task.
    doc, items = status(cloud)
    assert list(items) == list(PHASE5_TASKS + LATER_TASKS)
    assert set(item["state"] for item in items.values()) == {"missing"}, items
    assert "ECR repository customer does not exist" in items["5.1"]["details"]
    assert doc["addresses"] == {} and doc["deployments_in_progress"] == []
    assert status(cloud, check=True) == (doc, items)
    text = status(cloud, fmt="text")
    assert "[missing] 5.1 ECR repositories and their latest image" in text
    assert "customer: no load balancer yet" in text
    # In French: the report's words; the JSON (for machines) is the same.
    text = status(cloud, fmt="text", cloudlab_lang="fr")
    assert "[manquant] 5.1 dépôts ECR et leur image latest" in text
    assert "customer : pas encore d'équilibreur de charge" in text
    assert status(cloud, cloudlab_lang="fr") == (doc, items)

    # Half made: Phase 5 done, nothing of Phases 6 to 8.
    result = run_playbook(cloud, PHASE5, extra_vars=phase5_vars(tmp_path, archives), json_output=False)
    assert result.rc == 0, result
    doc, items = status(cloud)
    assert states(items, PHASE5_TASKS) == dict.fromkeys(PHASE5_TASKS, "done"), items
    assert states(items, LATER_TASKS) == dict.fromkeys(LATER_TASKS, "missing"), items
    assert doc["cluster"]["name"] == "microservices-serverlesscluster" and doc["cluster"]["status"] == "ACTIVE"
    assert all(doc["repositories"][svc]["image_digest"].startswith("sha256:") for svc in SERVICES)
    assert doc["codecommit"]["files"]["taskdef-employee.json"] == {"exists": True, "placeholder": True}

    # Converged: Phases 6 to 8; each pipeline's first execution moved its service to tg-one.
    result = run_playbook(cloud, PHASES6TO8, extra_vars={"aws_context_db_instance": ""}, json_output=False)
    assert result.rc == 0, result
    for svc in SERVICES:
        assert wait_execution(cloud, "update-%s-microservice" % svc, timeout=60)[0]["status"] == "Succeeded"
    doc, items = status(cloud)
    assert set(item["state"] for item in items.values()) == {"done"}, items
    dns = cloud.client("elbv2").describe_load_balancers(Names=["microservicesLB"])["LoadBalancers"][0]["DNSName"]
    assert doc["addresses"] == {
        "customer": {"production": "http://%s:80/" % dns, "test": "http://%s:8080/" % dns},
        "employee": {"production": "http://%s:80/admin/" % dns, "test": "http://%s:8080/admin/" % dns}}
    for svc in SERVICES:
        assert doc["live"][svc] == {"production": {"%s-tg-one" % svc: 100}, "test": {"%s-tg-one" % svc: 100}}
        assert doc["ecs_services"][svc]["target_group"] == "%s-tg-one" % svc
        assert doc["pipelines"][svc]["latest_execution"]["status"] == "Succeeded"
    assert doc["deployments_in_progress"] == []
    assert doc["listener_arns"].keys() == {"production", "test"}
    # What the playbooks made carries the ownership tags, every kind lab_info reads.
    owned = doc["ownership"]["owned"]
    assert [what for what, yes in owned.items() if not yes] == [], owned
    kinds = set(what.rsplit(" ", 1)[0] for what in owned)
    assert kinds == {"ECR repository", "stack", "target group", "load balancer", "security group", "ECS service",
                     "CodeDeploy application", "deployment group", "pipeline", "EventBridge rule", "bucket"}, kinds
    assert doc["ownership"]["unlisted_services"] == []
    # A service the lab owns that left the list is named.
    doc, _items = status(cloud, microservices=[{"name": "customer"}])
    assert doc["ownership"]["unlisted_services"] == ["employee"]
    text = status(cloud, fmt="text")
    assert "[done   ] 8.2 pipelines, artifact bucket and change detection" in text
    assert "customer: production http://%s:80/ -> customer-tg-one, test http://%s:8080/ -> customer-tg-one" % (
        dns, dns) in text

    # Drifted: a health check path changed behind the lab's back.
    elb = cloud.client("elbv2")
    group = elb.describe_target_groups(Names=["employee-tg-two"])["TargetGroups"][0]
    elb.modify_target_group(TargetGroupArn=group["TargetGroupArn"], HealthCheckPath="/health")
    doc, items = status(cloud)
    assert items["6.1"]["state"] == "drifted"
    assert items["6.1"]["details"] == [
        "employee-tg-two health check path is /health, the inventory asks /admin/suppliers"]
    assert [task for task, item in items.items() if item["state"] != "done"] == ["6.1"]
