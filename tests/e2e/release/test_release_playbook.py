"""playbooks/release.yml (role release, module release_follow) on the release tests' cloud (tasks off).

What a release says when it cannot end well: the pipeline that never starts (its rule missing), the lab
destroyed while it is followed, the endpoint gone, Ctrl-C, a time limit; each ends with one line, a non-zero
status and no traceback. Check mode changes nothing. A release that succeeds or fails on real containers is
in test_live_traffic.py.
"""
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from examples import build

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab as LAB
from localcloud.testing import require_binary
from localcloud.testing.cloud import free_port
from localcloud.testing.lab import APP, phases5to8, push_image, wait_execution

from helpers import BIN, ROOT, failure_messages, run_playbook

RELEASE = os.path.join("playbooks", "release.yml")
PIPELINE = "update-employee-microservice"
GROUP = "%s-employee" % APP


def sample_archive(tmp_path, version, service="employee"):
    """An OCI archive of the sample service whose pages say `version`."""
    require_binary("busybox")
    manifest, blobs = build.sample_image(service, busybox=shutil.which("busybox"), version=version)
    out = str(tmp_path / ("%s-%s.oci.tar" % (service, version)))
    build.write_oci_archive(manifest, blobs, out)
    return out


def executions(cloud):
    return cloud.client("codepipeline").list_pipeline_executions(pipelineName=PIPELINE)["pipelineExecutionSummaries"]


def latest_digest(cloud):
    return cloud.client("ecr").describe_images(repositoryName="employee", imageIds=[{"imageTag": "latest"}])[
        "imageDetails"][0]["imageDigest"]


def slow_shift(cloud):
    """Employee's group shifts 10% of the traffic, then waits 1000 AWS minutes (5 minutes here) for the next 10%:
    a deployment that is still in progress when the test acts (the test stops it at its end)."""
    codedeploy = cloud.client("codedeploy")
    codedeploy.create_deployment_config(
        deploymentConfigName="TenThenWait", computePlatform="ECS",
        trafficRoutingConfig={"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10,
                                                                             "linearInterval": 1000}})
    codedeploy.update_deployment_group(applicationName=APP, currentDeploymentGroupName=GROUP,
                                       deploymentConfigName="TenThenWait")


def green_weight(cloud):
    """The traffic weight of the replacement task set of employee's deployment in progress, or None."""
    codedeploy = cloud.client("codedeploy")
    for deployment_id in codedeploy.list_deployments(applicationName=APP, deploymentGroupName=GROUP,
                                                     includeOnlyStatuses=["InProgress"])["deployments"]:
        for target_id in codedeploy.list_deployment_targets(deploymentId=deployment_id)["targetIds"]:
            target = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=target_id)
            for info in target["deploymentTarget"]["ecsTarget"].get("taskSetsInfo") or []:
                if info["taskSetLabel"] == "Green":
                    return info["trafficWeight"]
    return None


class Running:
    """ansible-playbook in the background, default output read line by line (what a user sees)."""

    def __init__(self, cloud, extra, env=None):
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(ROOT, "inventories/local"), RELEASE]
        for key, value in extra.items():
            cmd += ["-e", "%s=%s" % (key, value)]
        self.lines = []
        # Unbuffered, and each task's start said when it starts (the default output prints a task's banner with
        # its first result otherwise).
        env = dict(cloud.env(), PYTHONUNBUFFERED="1", ANSIBLE_SHOW_PER_HOST_START="true", **(env or {}))
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("no %r in the output:\n%s" % (text, "".join(self.lines)))

    def wait_for_module(self, name, timeout=120):
        """Wait until the module `name` runs (its AnsiballZ process under this run), as a user who presses Ctrl-C
        while the module follows the release: a SIGINT that lands while ansible-playbook forks its worker can hang
        ansible-core itself, which is not what this test is about."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            parents, modules = {}, []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open("/proc/%s/stat" % pid) as stat:
                        parents[int(pid)] = int(stat.read().rsplit(")", 1)[1].split()[1])
                    with open("/proc/%s/cmdline" % pid, "rb") as cmdline:
                        if b"AnsiballZ_%s" % name.encode() in cmdline.read():
                            modules.append(int(pid))
                except (OSError, IndexError, ValueError):
                    continue
            for pid in modules:
                while pid > 1 and pid != self.proc.pid:
                    pid = parents.get(pid, 0)
                if pid == self.proc.pid:
                    return
            time.sleep(0.1)
        raise AssertionError("module %s did not start:\n%s" % (name, "".join(self.lines)))

    def end(self, timeout=300):
        self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return self.proc.returncode, "".join(self.lines)


def stopped(cloud):
    """Stop employee's deployment in progress, if any, and wait until it has ended (nothing runs after a test)."""
    codedeploy = cloud.client("codedeploy")
    for deployment_id in codedeploy.list_deployments(applicationName=APP, deploymentGroupName=GROUP,
                                                     includeOnlyStatuses=["InProgress", "Created", "Ready"])[
                                                         "deployments"]:
        codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    deadline = time.time() + 30
    while time.time() < deadline and codedeploy.list_deployments(
            applicationName=APP, deploymentGroupName=GROUP,
            includeOnlyStatuses=["InProgress", "Created", "Ready", "Queued", "Baking"])["deployments"]:
        time.sleep(0.1)


def followed_result(result):
    """The result of the role's task that followed the release (or stopped it)."""
    return [task["hosts"]["localhost"] for play in result.data()["plays"] for task in play["tasks"]
            if "Follow the execution" in task["task"]["name"]][0]


def one_line_no_trace(output):
    assert "Traceback" not in output, output
    assert "An exception occurred" not in output, output


def test_check_mode_and_wrong_inputs_change_nothing_and_a_pipeline_that_never_starts_names_its_rule(lab, tmp_path):
    cloud = lab["cloud"]
    archive = sample_archive(tmp_path, "2")
    before = (latest_digest(cloud), len(executions(cloud)))
    result = run_playbook(cloud, RELEASE, check=True,
                          extra_vars={"release_service": "employee", "release_archive": archive})
    assert result.rc == 0, failure_messages(result)
    assert (latest_digest(cloud), len(executions(cloud))) == before
    shown = [task["hosts"]["localhost"].get("msg") for play in result.data()["plays"] for task in play["tasks"]]
    assert any(isinstance(msg, str) and msg.startswith("would follow the execution of %s" % PIPELINE)
               for msg in shown), shown

    result = run_playbook(cloud, RELEASE, extra_vars={"release_service": "supplier", "release_archive": archive})
    assert result.rc != 0
    assert "release_service is supplier: not a service of the list (customer, employee)" in failure_messages(result)
    assert (latest_digest(cloud), len(executions(cloud))) == before

    # The Phase 8 rule that starts the pipeline on a new latest image, gone: the push starts nothing.
    events = cloud.client("events")
    rule = LAB.event_rule(PIPELINE, "Image")
    events.remove_targets(Rule=rule, Ids=[t["Id"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]])
    events.delete_rule(Name=rule)
    rc, output = Running(cloud, {"release_service": "employee", "release_archive": archive,
                                 "release_start_timeout": 2, "release_poll": 0.2}).end()
    assert rc != 0
    one_line_no_trace(output)
    assert ("its change detection rule %s (EventBridge) is missing, so nothing starts it; rerun Phase 8" % rule
            in output), output
    assert len(executions(cloud)) == 1  # the first one only


def test_a_commit_on_dev_released_and_followed(lab):
    """A commit already pushed to dev: nothing to push, the execution that took it is followed to its end."""
    cloud = lab["cloud"]
    commit = lab["deployment"].push({"README.md": "a change\n"}, "a change on dev")
    result = run_playbook(cloud, RELEASE, extra_vars={"release_service": "employee", "release_commit": "head",
                                                      "release_poll": 0.2})
    assert result.rc == 0, failure_messages(result)
    followed = followed_result(result)
    assert followed["status"] == "Succeeded"
    execution = cloud.client("codepipeline").get_pipeline_execution(
        pipelineName=PIPELINE, pipelineExecutionId=followed["execution_id"])["pipelineExecution"]
    assert dict((r["name"], r["revisionId"]) for r in execution["artifactRevisions"])["SourceArtifact"] == commit
    # Version 1 was on tg-one: the release moved both listeners to tg-two.
    assert followed["traffic"] == {"80": {"employee-tg-two": 100}, "8080": {"employee-tg-two": 100}}
    assert any("Deploy.Deploy: Succeeded" in line for line in followed["progress"]), followed["progress"]
    assert any(" lifecycle: " in line and "AllowTraffic:Succeeded" in line for line in followed["progress"]), \
        followed["progress"]
    assert followed["msg"].startswith("release of employee Succeeded (deployment ")


def test_a_slow_release_timed_out_interrupted_stopped_and_followed_again(lab, tmp_path):
    """One release that stays in progress: the time limit, Ctrl-C, a stop with rollback, then following it again."""
    cloud = lab["cloud"]
    codedeploy = cloud.client("codedeploy")
    slow_shift(cloud)
    try:
        # The time limit: where the release is and how to follow it; it goes on.
        rc, output = Running(cloud, {"release_service": "employee", "release_archive": sample_archive(tmp_path, "2"),
                                     "release_timeout": 1, "release_poll": 0.2}).end()
        assert rc != 0, output
        one_line_no_trace(output)
        assert "release of employee still in progress after 1s (" in output, output
        assert "it goes on in AWS: follow it with ansible-playbook -i " in output
        execution_id = executions(cloud)[0]["pipelineExecutionId"]
        assert "-e release_execution_id=%s" % execution_id in output

        # Once the first step of the shift is done, followed again with a time limit: the shift in percent.
        deadline = time.time() + 60
        while time.time() < deadline and green_weight(cloud) != 10:
            time.sleep(0.2)
        assert green_weight(cloud) == 10, "the deployment did not reach its 10% step"
        rc, output = Running(cloud, {"release_service": "employee", "release_execution_id": execution_id,
                                     "release_timeout": 1, "release_poll": 0.2}).end()
        assert rc != 0, output
        one_line_no_trace(output)
        flat = " ".join(output.split())  # the YAML output folds long lines
        assert "traffic shift: 10% of traffic on the replacement task set (TenThenWait)" in flat, output
        assert "traffic: listener :80 -> employee-tg-one 90% / employee-tg-two 10%, listener :8080 -> " \
            "employee-tg-two" in flat, output
        assert ", 10% of traffic on the replacement); it goes on in AWS" in flat, output

        # Followed again, then Ctrl-C: the playbook said before how to follow it; the release goes on.
        running = Running(cloud, {"release_service": "employee", "release_execution_id": execution_id,
                                  "release_poll": 0.2})
        running.wait_for("[started TASK: cloudlab.microservices.release : Follow the execution")
        running.wait_for_module("release_follow")
        os.killpg(running.proc.pid, signal.SIGINT)
        rc, output = running.end()
        assert rc != 0
        one_line_no_trace(output)
        assert "Ctrl-C stops this run only: the release goes on in AWS." in output, output
        assert "-e release_execution_id=%s" % execution_id in output.replace("\n", " ")
        assert codedeploy.list_deployments(applicationName=APP, deploymentGroupName=GROUP,
                                           includeOnlyStatuses=["InProgress"])["deployments"]

        # Stopped with a rollback: version 1's group has all the traffic again.
        result = run_playbook(cloud, RELEASE, extra_vars={"release_service": "employee", "release_stop": True,
                                                          "release_poll": 0.2})
        assert result.rc == 0, failure_messages(result)
        stop = followed_result(result)
        assert stop["changed"] is True
        assert stop["msg"].startswith("deployment ") and " Stopped " in stop["msg"], stop["msg"]
        assert stop["traffic"] == {"80": {"employee-tg-one": 100}, "8080": {"employee-tg-one": 100}}

        # The release followed again ends failed, with CodeDeploy's words and where traffic stayed.
        result = run_playbook(cloud, RELEASE, extra_vars={"release_service": "employee", "release_poll": 0.2,
                                                          "release_execution_id": execution_id})
        assert result.rc != 0
        line = failure_messages(result)
        assert "release of employee Failed (deployment " in line or "release of employee Stopped (deployment " \
            in line, line
        assert "The deployment was stopped by the user." in line or "stopped" in line.lower(), line
        assert line.endswith("traffic stayed where it is: listener :80 -> employee-tg-one, listener :8080 -> "
                             "employee-tg-one"), line
    finally:
        stopped(cloud)


def test_endpoint_gone_is_one_line(release_cloud):
    """Nothing answers where the inventory points (a stopped cloud): one line, no trace."""
    gone = "http://127.0.0.1:%d" % free_port()
    rc, output = Running(release_cloud, {"release_service": "employee", "release_commit": "head"},
                         env={"LOCALCLOUD_ENDPOINT": gone, "AWS_MAX_ATTEMPTS": "1"}).end()
    assert rc != 0
    one_line_no_trace(output)
    assert "release of employee: cannot reach %s (EndpointConnectionError)" % gone in output, output


@pytest.fixture
def own_lab(release_cloud, tmp_path, lab_pipelines):
    """A lab of this test's own on the release cloud (the test destroys part of it)."""
    cloud = release_cloud
    cloud.reset()
    made = phases5to8(cloud, tmp_path, lambda svc: push_image(cloud, svc, "1"), lab_pipelines)
    wait_execution(cloud, PIPELINE)
    yield made
    stopped(cloud)


def test_lab_destroyed_mid_release_is_one_line(own_lab, tmp_path):
    cloud = own_lab["cloud"]
    slow_shift(cloud)
    running = Running(cloud, {"release_service": "employee", "release_archive": sample_archive(tmp_path, "2"),
                              "release_poll": 0.2})
    running.wait_for("[started TASK: cloudlab.microservices.release : Follow the execution")
    cloud.client("codepipeline").delete_pipeline(name=PIPELINE)
    rc, output = running.end()
    assert rc != 0
    one_line_no_trace(output)
    assert "release of employee: " in output and "no longer exists (the lab was destroyed or changed while the " \
        "release ran); rebuild it with playbooks/site.yml" in output, output
