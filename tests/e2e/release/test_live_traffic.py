"""With a Docker engine: task sets run as containers, listeners answer on 127.0.0.1, a release shows in curl.

The local cloud here runs with LOCALCLOUD_TASKS=on and a Docker engine of the test session's own
(`dockerd` of localcloud.testing): the sample services' images (examples/build.py, whose pages say
their version) are pushed through the ECR API, and what the listeners answer is read over HTTP.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

import pytest

from examples import build

from localcloud.testing import require_binary
from localcloud.testing.cloud import free_port
from localcloud.testing.lab import CLUSTER

from helpers import ROOT, examples_env, failure_messages, run_playbook, task_result
from helpers.live import CUSTOMER, EMPLOYEE, containers, count, ended, get, listeners, push_sample, settle


def test_release_shows_on_the_listener(live_lab, dockerd):
    cloud = live_lab["cloud"]
    urls = listeners(cloud)
    assert sorted(urls) == [80, 8080]
    for port in (80, 8080):
        assert all(u.startswith("http://127.0.0.1:") for u in urls.values())
        status, body = get(urls[port] + "/")
        assert status == 200 and "customer version 1" in body, body
        status, body = get(urls[port] + "/admin/suppliers")
        assert status == 200 and "employee version 1" in body, body

    # One task per service, on 127.0.0.1, registered and healthy in the live target group.
    assert len(settle(dockerd, cloud, 2)) == 2
    elbv2 = cloud.client("elbv2")
    live_tg = live_lab["target_groups"]["employee"]["one"]["arn"]
    health = elbv2.describe_target_health(TargetGroupArn=live_tg)["TargetHealthDescriptions"]
    assert [(h["Target"]["Id"], h["TargetHealth"]["State"]) for h in health] == [("127.0.0.1", "healthy")]
    old_port = health[0]["Target"]["Port"]
    service = cloud.client("ecs").describe_services(cluster=CLUSTER, services=["employee-microservice"])["services"][0]
    assert service["runningCount"] == 1
    assert service["taskSets"][0]["runningCount"] == 1
    ecs = cloud.client("ecs")
    first = ecs.list_tasks(cluster=CLUSTER, serviceName="employee-microservice")["taskArns"]
    assert len(first) == 1
    task = ecs.describe_tasks(cluster=CLUSTER, tasks=first)["tasks"][0]
    assert (task["lastStatus"], task["desiredStatus"], task["group"]) == (
        "RUNNING", "RUNNING", "service:employee-microservice")
    assert task["taskDefinitionArn"] == service["taskSets"][0]["taskDefinition"]

    # A new latest: the pipeline deploys it, the production listener answers with version 2.
    before = count(cloud, EMPLOYEE)
    push_sample(cloud, "employee", "2")
    execution = ended(cloud, EMPLOYEE, before + 1)
    assert execution["status"] == "Succeeded", execution
    status, body = get(urls[80] + "/admin/suppliers")
    assert status == 200 and "employee version 2" in body, body
    assert "customer version 1" in get(urls[80] + "/")[1]
    new_tg = live_lab["target_groups"]["employee"]["two"]["arn"]
    health = elbv2.describe_target_health(TargetGroupArn=new_tg)["TargetHealthDescriptions"]
    assert [(h["Target"]["Id"], h["TargetHealth"]["State"]) for h in health] == [("127.0.0.1", "healthy")]
    assert health[0]["Target"]["Port"] != old_port
    # The original task set's task stops after the deployment ended, as on AWS: give it a moment.
    deadline = time.time() + 30
    now = ecs.list_tasks(cluster=CLUSTER, serviceName="employee-microservice")["taskArns"]
    while len(now) > 1 and time.time() < deadline:
        time.sleep(0.5)
        now = ecs.list_tasks(cluster=CLUSTER, serviceName="employee-microservice")["taskArns"]
    assert len(now) == 1 and now != first
    # The original task set ended after the termination wait: its container and target are gone.
    assert len(settle(dockerd, cloud, 2)) == 2
    assert elbv2.describe_target_health(TargetGroupArn=live_tg)["TargetHealthDescriptions"] == []
    old = ecs.describe_tasks(cluster=CLUSTER, tasks=first)["tasks"][0]
    assert (old["lastStatus"], old["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert ecs.list_tasks(cluster=CLUSTER, serviceName="employee-microservice", desiredStatus="STOPPED")[
        "taskArns"] == first


def test_desired_count_runs_that_many_tasks_behind_the_target_group(live_lab, dockerd):
    """Phase 9's `update-service --desired-count`: more tasks, each its own target, then fewer."""
    cloud = live_lab["cloud"]
    ecs, elbv2 = cloud.client("ecs"), cloud.client("elbv2")
    live_tg = live_lab["target_groups"]["customer"]["one"]["arn"]

    def healthy():
        return sorted(h["Target"]["Port"] for h in elbv2.describe_target_health(TargetGroupArn=live_tg)[
            "TargetHealthDescriptions"] if h["TargetHealth"]["State"] == "healthy")

    def tasks():
        return ecs.list_tasks(cluster=CLUSTER, serviceName="customer-microservice")["taskArns"]

    def wait(count):
        deadline = time.time() + 60
        while (len(healthy()) != count or len(tasks()) != count) and time.time() < deadline:
            time.sleep(0.3)

    ecs.update_service(cluster=CLUSTER, service="customer-microservice", desiredCount=3)
    wait(3)
    assert len(healthy()) == 3 and len(set(healthy())) == 3
    assert len(tasks()) == 3
    assert len(settle(dockerd, cloud, 4)) == 4  # and employee's one
    assert ecs.describe_services(cluster=CLUSTER, services=["customer-microservice"])["services"][0][
        "runningCount"] == 3
    assert all("customer version 1" in get(listeners(cloud)[80] + "/")[1] for _attempt in range(6))

    ecs.update_service(cluster=CLUSTER, service="customer-microservice", desiredCount=1)
    wait(1)
    assert len(healthy()) == 1 and len(tasks()) == 1
    assert len(settle(dockerd, cloud, 2)) == 2


PHASE6 = os.path.join("playbooks", "phase6.yml")
PHASE7 = os.path.join("playbooks", "phase7.yml")
# The fixture's cluster is boto3's, not Phase 5's stack: Phase 5's fact names it.
PHASE_EXTRA = {"aws_context_db_instance": "", "fargate_cluster_name": CLUSTER}
CUSTOMER_ENTRY = {"name": "customer"}
EMPLOYEE_ENTRY = {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}


def _phase(cloud, playbook, services, **kwargs):
    """One lab task of a phase: the load balancer's (task6_3), the services' (task7_1 runs both)."""
    tags = ["task6_3"] if playbook == PHASE6 else ["task7_1"]
    result = run_playbook(cloud, playbook, extra_vars=dict(PHASE_EXTRA, microservices=services), tags=tags, **kwargs)
    assert result.rc == 0, failure_messages(result)
    return result


def test_source_cidrs_limit_the_admin_rule_on_both_listeners(live_lab):
    """9.1 through phase6.yml: the address let in reaches employee, another one gets the listener's default
    (customer); the weighted forward CodeDeploy left stays; removing the setting removes the condition."""
    cloud = live_lab["cloud"]
    elbv2 = cloud.client("elbv2")
    urls = listeners(cloud)

    def admin_rules():
        return [r for arn in live_lab["listeners"].values() for r in elbv2.describe_rules(ListenerArn=arn)["Rules"]
                if not r["IsDefault"]]

    def sources():
        return [sorted(v for c in r["Conditions"] if c["Field"] == "source-ip"
                       for v in c["SourceIpConfig"]["Values"]) for r in admin_rules()]

    def admin_pages():
        return [get(urls[port] + "/admin/suppliers") for port in (80, 8080)]

    before = [r["Actions"] for r in admin_rules()]  # CodeDeploy's: employee-tg-one on both listeners
    let_in = _phase(cloud, PHASE6, [CUSTOMER_ENTRY, dict(EMPLOYEE_ENTRY, source_cidrs=["127.0.0.1/32"])], diff=True)
    alb = task_result(let_in, "its two listeners and their rules")
    assert [a for a in alb["actions"] if a.startswith("limit")] == [  # (the fixture's rules also move to priority 10)
        "limit rule /admin/* of production listener HTTP:80 to 127.0.0.1/32",
        "limit rule /admin/* of test listener HTTP:8080 to 127.0.0.1/32"]
    assert sources() == [["127.0.0.1/32"], ["127.0.0.1/32"]]
    assert [r["Actions"] for r in admin_rules()] == before
    assert alb["diff"]["after"]["listeners"]["HTTP:80"]["rules"] == {"10 /admin/* from 127.0.0.1/32": "employee-tg-one"}
    assert all(status == 200 and "employee version 1" in body for status, body in admin_pages()), admin_pages()
    again = _phase(cloud, PHASE6, [CUSTOMER_ENTRY, dict(EMPLOYEE_ENTRY, source_cidrs=["127.0.0.1/32"])])
    assert again.stats()["localhost"]["changed"] == 0

    elsewhere = [CUSTOMER_ENTRY, dict(EMPLOYEE_ENTRY, source_cidrs=["203.0.113.7/32"])]
    predicted = _phase(cloud, PHASE6, elsewhere, check=True)
    assert predicted.stats()["localhost"]["changed"] == 1 and sources() == [["127.0.0.1/32"], ["127.0.0.1/32"]]
    _phase(cloud, PHASE6, elsewhere)
    assert sources() == [["203.0.113.7/32"], ["203.0.113.7/32"]]
    # 127.0.0.1 no longer matches the rule: the default action, customer, whose server has no such page.
    for status, body in admin_pages():
        assert status == 404 and "employee" not in body, body
    assert all("customer version 1" in get(urls[port] + "/")[1] for port in (80, 8080))

    _phase(cloud, PHASE6, [CUSTOMER_ENTRY, EMPLOYEE_ENTRY])
    assert sources() == [[], []]
    assert [r["Actions"] for r in admin_rules()] == before
    assert all(status == 200 and "employee version 1" in body for status, body in admin_pages())


def test_desired_count_is_converged_and_an_unset_one_left_alone(live_lab, dockerd):
    """9.4 through phase7.yml: customer's desired_count 3 runs 3 containers and a rerun keeps them; unset, a count
    changed by hand (2) is not reset."""
    cloud = live_lab["cloud"]
    ecs = cloud.client("ecs")

    def tasks():
        return ecs.list_tasks(cluster=CLUSTER, serviceName="customer-microservice")["taskArns"]

    def wait(count):
        deadline = time.time() + 60
        while len(tasks()) != count and time.time() < deadline:
            time.sleep(0.3)
        return len(tasks())

    scaled = [dict(CUSTOMER_ENTRY, desired_count=3), EMPLOYEE_ENTRY]
    result = _phase(cloud, PHASE7, scaled, diff=True)
    diff = task_result(result, "Create, update or delete the ECS services")["diff"]
    assert (diff["before"]["customer-microservice"]["desired_count"],
            diff["after"]["customer-microservice"]["desired_count"]) == (1, 3)
    assert (diff["after"].get("employee-microservice") or {}).get("desired_count", 1) == 1  # employee stays at 1
    assert wait(3) == 3
    assert len(settle(dockerd, cloud, 4)) == 4  # and employee's one
    assert _phase(cloud, PHASE7, scaled).stats()["localhost"]["changed"] == 0
    assert len(tasks()) == 3

    ecs.update_service(cluster=CLUSTER, service="customer-microservice", desiredCount=2)
    assert wait(2) == 2
    assert _phase(cloud, PHASE7, [CUSTOMER_ENTRY, EMPLOYEE_ENTRY]).stats()["localhost"]["changed"] == 0
    assert ecs.describe_services(cluster=CLUSTER, services=["customer-microservice"])["services"][0][
        "desiredCount"] == 2
    assert len(settle(dockerd, cloud, 3)) == 3


def _release(cloud, archive):
    """playbooks/release.yml with the archive: (its result, the result of the task that followed the release)."""
    result = run_playbook(cloud, os.path.join("playbooks", "release.yml"), extra_vars={
        "release_service": "employee", "release_archive": archive, "release_poll": 0.3})
    followed = [task["hosts"]["localhost"] for play in result.data()["plays"] for task in play["tasks"]
                if "Follow the execution" in task["task"]["name"]][0]
    return result, followed


def test_image_that_exits_fails_and_traffic_stays(live_lab, dockerd, tmp_path):
    """The release playbook with a broken image: it fails with CodeDeploy's words, traffic where it was."""
    cloud = live_lab["cloud"]
    urls = listeners(cloud)
    before = count(cloud, EMPLOYEE)
    manifest, blobs = build.sample_image("employee", busybox=shutil.which("busybox"), version="3")
    layers = [blobs[layer["digest"]] for layer in json.loads(manifest)["layers"]]
    manifest, blobs = build.oci_image(layers, "employee", ["/bin/busybox", "false"])
    archive = str(tmp_path / "broken.oci.tar")
    build.write_oci_archive(manifest, blobs, archive)
    result, followed = _release(cloud, archive)
    assert result.rc != 0
    assert "Traceback" not in result.output
    execution = ended(cloud, EMPLOYEE, before + 1)
    assert execution["status"] == "Failed"
    assert followed["execution_id"] == execution["pipelineExecutionId"]
    actions = cloud.client("codepipeline").list_action_executions(
        pipelineName=EMPLOYEE, filter={"pipelineExecutionId": execution["pipelineExecutionId"]})["actionExecutionDetails"]
    deploy = [a for a in actions if a["actionName"] == "Deploy"][0]
    assert "Essential container in task exited (exit code 1)" in deploy["output"]["executionResult"][
        "errorDetails"]["message"]
    # The playbook's one line: CodeDeploy's own error text, and where traffic stayed.
    line = followed["msg"]
    assert line.startswith("release of employee Failed (deployment "), line
    assert "Essential container in task exited (exit code 1)" in line, line
    assert line.endswith("traffic stayed where it is: listener :80 -> employee-tg-one, listener :8080 -> "
                         "employee-tg-one"), line
    assert followed["answers"]["80"]["answer"] == "employee version 1"
    status, body = get(urls[80] + "/admin/suppliers")
    assert status == 200 and "employee version 1" in body, body
    assert len(settle(dockerd, cloud, 2)) == 2


def test_reset_stops_tasks_and_listeners(live_lab, dockerd):
    cloud = live_lab["cloud"]
    urls = listeners(cloud)
    assert containers(dockerd, cloud)
    cloud.reset()
    assert containers(dockerd, cloud) == []
    assert listeners(cloud) == {}
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(urls[80] + "/", timeout=5)


def test_own_engine_starts_and_stops_with_the_cloud(tmp_path):
    """No engine answers: `localcloud start` runs a dockerd of its own; `localcloud stop` ends it."""
    require_binary("dockerd")
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("dockerd needs root, and CI must run the Docker tests")
        pytest.skip("dockerd needs root")
    state = str(tmp_path / "cloud")
    env = dict((k, v) for k, v in os.environ.items() if k != "DOCKER_HOST")
    env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                "LOCALCLOUD_TASKS": "auto"})
    port = free_port()

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "localcloud"] + list(args), cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=180, check=False)

    def dockerds():
        out = subprocess.run(["pgrep", "-f", "dockerd --data-root %s/" % state], capture_output=True, text=True,
                             check=False).stdout
        return out.split()

    marker = str(90000 + port)  # a sleep no other process runs

    def sleepers():
        return subprocess.run(["pgrep", "-f", "busybox sleep %s" % marker], capture_output=True, text=True,
                              check=False).stdout.split()

    started = cli("start", "--port", str(port), "--state-dir", state, "--registry-port", "0")
    try:
        assert started.returncode == 0, started.stderr
        with urllib.request.urlopen("http://127.0.0.1:%d/_localcloud/status" % port, timeout=10) as resp:
            tasks = json.loads(resp.read())["tasks"]
        assert tasks["running"] is True and tasks["ownEngine"] is True, tasks
        assert len(dockerds()) == 1
        # A container still running on that engine when the cloud stops (as a task would be).
        engine = dict(env, DOCKER_HOST=tasks["dockerHost"], DOCKER_CONFIG=str(tmp_path / "docker-config"))
        layer = tmp_path / "busybox.tar"
        with tarfile.open(str(layer), "w") as tar:
            tar.add(shutil.which("busybox"), arcname="bin/busybox")
        subprocess.run(["docker", "import", str(layer), "lc-sleeper:1"], env=engine, check=True, capture_output=True)
        subprocess.run(["docker", "run", "-d", "--network", "host", "lc-sleeper:1", "/bin/busybox", "sleep", marker],
                       env=engine, check=True, capture_output=True)
        assert sleepers()
    finally:
        stopped = cli("stop", "--state-dir", state)
    assert stopped.returncode == 0, stopped.stderr
    deadline = time.time() + 30
    while dockerds() and time.time() < deadline:
        time.sleep(0.2)
    assert dockerds() == []
    # Nothing of the engine outlives the cloud: no container process, no mount left under the state dir.
    assert sleepers() == []
    with open("/proc/self/mounts") as handle:
        assert [line for line in handle if " %s/" % state in line] == []


def next_employee(cloud, tmp_path):
    """`make release`'s helper (examples/release_cli.py) run for employee: the next version as an archive."""
    return subprocess.run([sys.executable, "-m", "examples.release_cli", "--service", "employee",
                           "--endpoint", cloud.endpoint, "--busybox", shutil.which("busybox"),
                           "--archive-dir", str(tmp_path / "no-archives"), "--release-dir", str(tmp_path)],
                          cwd=ROOT, env=examples_env(cloud.env()), capture_output=True, text=True, timeout=300,
                          check=False)


def test_make_release_puts_the_new_version_live(live_lab, tmp_path):
    """`make release`: the helper builds version 2, the playbook pushes it, follows it, reads what listeners answer."""
    cloud = live_lab["cloud"]
    built = next_employee(cloud, tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    result, followed = _release(cloud, built.stdout.strip())
    assert result.rc == 0, failure_messages(result)
    version = built.stderr.split("employee version ", 1)[1].split(" ", 1)[0]
    assert version != "1"
    assert followed["status"] == "Succeeded"
    # The listeners moved to the other group of the pair, and they answer with the new version.
    assert followed["traffic"] == {"80": {"employee-tg-two": 100}, "8080": {"employee-tg-two": 100}}
    urls = listeners(cloud)
    for port in (80, 8080):
        assert followed["answers"][str(port)] == {"url": urls[port] + "/admin/suppliers",
                                                  "answer": "employee version %s" % version}, followed["answers"]
    assert "employee version %s" % version in get(urls[80] + "/admin/suppliers")[1]
    assert "listener :80 answers on %s/admin/suppliers: employee version %s" % (urls[80], version) in followed[
        "report"]


PHASE9 = os.path.join("playbooks", "phase9.yml")


def test_phase9_limits_releases_scales_and_a_rerun_changes_nothing(live_lab, dockerd, tmp_path):
    """playbooks/phase9.yml on the live lab: --check changes nothing; then the admin rule carries the source
    condition on both listeners, the listeners answer /admin/suppliers with the new employee version, customer
    runs 3 containers; a rerun (and a --check) changes nothing and starts no release."""
    cloud = live_lab["cloud"]
    elbv2, ecs, ecr = cloud.client("elbv2"), cloud.client("ecs"), cloud.client("ecr")
    urls = listeners(cloud)
    built = next_employee(cloud, tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    version = built.stderr.split("employee version ", 1)[1].split(" ", 1)[0]
    assert version != "1"
    # The user's list as the inventory has it, given on the command line: Phase 9 adds its settings itself.
    extra = dict(PHASE_EXTRA, microservices=[CUSTOMER_ENTRY, EMPLOYEE_ENTRY], phase9_admin_cidrs=["127.0.0.1/32"],
                 phase9_release_archive=built.stdout.strip(), release_poll=0.3)

    def sources():
        return [[v for c in r["Conditions"] if c["Field"] == "source-ip" for v in c["SourceIpConfig"]["Values"]]
                for arn in live_lab["listeners"].values() for r in elbv2.describe_rules(ListenerArn=arn)["Rules"]
                if not r["IsDefault"]]

    def customer():
        return ecs.describe_services(cluster=CLUSTER, services=["customer-microservice"])["services"][0][
            "desiredCount"]

    def latest():
        return ecr.describe_images(repositoryName="employee", imageIds=[{"imageTag": "latest"}])["imageDetails"][0][
            "imageDigest"]

    def state():
        return sources(), customer(), latest(), count(cloud, EMPLOYEE), count(cloud, CUSTOMER)

    before = state()
    assert before[:2] == ([[], []], 1)
    predicted = run_playbook(cloud, PHASE9, extra_vars=extra, check=True)
    assert predicted.rc == 0, failure_messages(predicted)
    assert predicted.stats()["localhost"]["changed"] > 0
    assert state() == before

    result = run_playbook(cloud, PHASE9, extra_vars=extra)
    assert result.rc == 0, failure_messages(result)
    assert sources() == [["127.0.0.1/32"], ["127.0.0.1/32"]]
    followed = task_result(result, "Follow the execution")
    assert followed["status"] == "Succeeded"
    assert followed["traffic"] == {"80": {"employee-tg-two": 100}, "8080": {"employee-tg-two": 100}}
    for port in (80, 8080):
        status, body = get(urls[port] + "/admin/suppliers")
        assert status == 200 and "employee version %s" % version in body, body
    assert customer() == 3
    deadline = time.time() + 60
    while len(ecs.list_tasks(cluster=CLUSTER, serviceName="customer-microservice")["taskArns"]) != 3:
        assert time.time() < deadline, "customer does not run 3 tasks"
        time.sleep(0.3)
    assert len(settle(dockerd, cloud, 4)) == 4  # customer's 3 and employee's new one
    after = state()
    assert after[3:] == (before[3] + 1, before[4])  # one release, of employee
    # status.yml given Phase 9's input lists its tasks 9.1 and 9.4, done.
    shown = run_playbook(cloud, os.path.join("playbooks", "status.yml"), extra_vars=dict(extra, status_format="json"))
    assert shown.rc == 0, failure_messages(shown)
    (doc,) = [json.loads(t["hosts"]["localhost"]["msg"]) for play in shown.data()["plays"] for t in play["tasks"]
              if t["task"]["name"] == "Show where the lab stands, as JSON"]
    items = dict((item["task"], item) for item in doc["checklist"])
    assert (items["9.1"]["title"], items["9.1"]["state"]) == ("/admin/* limited to 127.0.0.1/32", "done"), items
    assert items["9.4"]["title"] == "ECS service customer-microservice scaled to 3", items
    # The fixture's cluster is boto3's, without Phase 5's stack: lab_info's "-c" rule reads the ECS services on
    # the fallback cluster, so 9.4 is what 7.1 is there (tests/unit/plugins/modules/test_lab_info.py has 9.4 done
    # and drifted).
    assert items["9.4"]["state"] == items["7.1"]["state"] == "missing", (items["9.4"], items["7.1"])
    assert items["9.4"]["details"] == items["7.1"]["details"], (items["9.4"], items["7.1"])

    again = run_playbook(cloud, PHASE9, extra_vars=extra)
    assert again.rc == 0, failure_messages(again)
    assert again.stats()["localhost"]["changed"] == 0
    assert state() == after  # no new execution: the image was latest already
    checked = run_playbook(cloud, PHASE9, extra_vars=extra, check=True)
    assert checked.rc == 0, failure_messages(checked)
    assert checked.stats()["localhost"]["changed"] == 0 and state() == after
