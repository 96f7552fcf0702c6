"""A service removed from the list, on the local cloud: what the lab made for it is its to remove, on request.

One lab for the module, in this order: site.yml with a third service, supplier (an archive, path /supplier/*);
site.yml again without it: refused by the plan, naming it and both ways on, nothing changed.
"""
import importlib.util
import os
import shutil
import time

import pytest

from conftest import ROOT, failure_messages, run_playbook

from .conftest import phase5_vars, snapshot

pytestmark = pytest.mark.slow

SITE = "playbooks/site.yml"
LISTED = [{"name": "customer"},
          {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-prune")


@pytest.fixture(scope="module")
def supplier(archives, workdir):
    """The third service's entry: the sample employee's files as supplier, an OCI archive of its own."""
    spec = importlib.util.spec_from_file_location("examples_build", os.path.join(ROOT, "examples", "build.py"))
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    out = str(workdir / "supplier.oci.tar")
    build.build_archive("supplier", out, service_dir=os.path.join(ROOT, "examples", "employee"),
                        busybox=shutil.which("busybox"))
    return {"name": "supplier", "archive": out, "path_pattern": "/supplier/*", "health_check_path": "/admin/suppliers"}


@pytest.fixture(scope="module")
def three(lab, archives, workdir, supplier):
    """The lab converged by site.yml with customer, employee and supplier."""
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=LISTED + [supplier]))
    assert result.rc == 0, failure_messages(result)
    for svc in ("customer", "employee", "supplier"):
        first_execution_ended(lab, "update-%s-microservice" % svc)
    return result


def first_execution_ended(cloud, pipeline, timeout=120):
    """Wait until the pipeline's first execution (CreatePipeline's, which deploys) has ended (polled)."""
    client = cloud.client("codepipeline")
    deadline = time.time() + timeout
    while time.time() < deadline:
        summaries = client.list_pipeline_executions(pipelineName=pipeline)["pipelineExecutionSummaries"]
        if summaries and summaries[0]["status"] != "InProgress":
            return
        time.sleep(0.2)
    raise AssertionError("pipeline %s: its first execution did not end in %ss" % (pipeline, timeout))


def test_a_service_that_left_the_list_is_refused_by_name_with_both_ways_on_and_nothing_changes(
        lab, three, archives, workdir):
    before = snapshot(lab)
    groups = sorted(g["TargetGroupName"] for g in lab.client("elbv2").describe_target_groups()["TargetGroups"])
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=LISTED))
    assert result.rc != 0
    message = failure_messages(result)
    assert "supplier" in message and "no longer in microservices" in message, message
    assert "back in microservices" in message and "-e cloudlab_prune=true" in message, message
    assert result.stats()["localhost"]["changed"] == 0
    assert not [p for p in result.data()["plays"] if p["play"]["name"].startswith("Phase")], "a phase ran"
    assert snapshot(lab) == before
    assert sorted(g["TargetGroupName"] for g in lab.client("elbv2").describe_target_groups()["TargetGroups"]) == groups
