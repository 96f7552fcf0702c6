"""site.yml as one run that plans before its first write, on the local cloud.

One lab for the module, in this order: a cluster someone else made holds the lab's cluster name, so
Phase 5 chooses microservices-serverlesscluster-c; site.yml --check on that fresh account; site.yml;
site.yml --check on the converged lab; a port change refused by the plan before any write; Phases 7
and 8 run alone; Phase 7 after Phase 6 drifted; the codedeploy role's listener lookup; lab_info's plan
of Phases 7 and 8 on the converged lab, then with one change by hand per role.
"""
import copy
import os

import pytest

# Module runs counted as `make bench` counts them.
from bench.benchlib import module_runs

from helpers import BIN, changed_tasks, failure_messages, run_playbook, shown_lines, shown_summary

from .awx import META, RESULT_EVENTS, awx_private_data_dir, inventory_secrets, secrets_in_artifacts
from helpers.phase5 import FAMILIES, clone_url, dev_commits, phase5_vars, snapshot


pytestmark = pytest.mark.slow

SITE = "playbooks/site.yml"
PHASE7 = "playbooks/phase7.yml"
PHASE8 = "playbooks/phase8.yml"
LOOKUP = os.path.join("tests", "e2e", "plays", "codedeploy_lookup.yml")
LAB_NAME = "microservices-serverlesscluster"
CHOSEN = LAB_NAME + "-c"
PHASES = ("Phase 5", "Phase 6", "Phase 7", "Phase 8")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-site")


@pytest.fixture(scope="module")
def site(lab, archives, workdir):
    """The lab with a foreign cluster on the lab's name; the check run on it, then site.yml once."""
    lab.client("ecs").create_cluster(clusterName=LAB_NAME)
    before = snapshot(lab)
    check = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives), check=True, diff=True)
    after_check = snapshot(lab)
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives))
    assert result.rc == 0, failure_messages(result)
    return dict(before=before, check=check, after_check=after_check, result=result)


def changed_per_play(result):
    """{play name: number of tasks that reported a change}; a play imported twice (Phase 7, which
    phase9.yml imports too for 9.4) counts once with the tasks of both."""
    out = {}
    for play in result.data()["plays"]:
        out[play["play"]["name"]] = out.get(play["play"]["name"], 0) + sum(
            1 for task in play["tasks"] if task["hosts"].get("localhost", {}).get("changed"))
    return out


def _phase(counts, phase):
    (name,) = [n for n in counts if n.startswith(phase)]
    return counts[name]


def test_check_on_a_fresh_account_plans_every_phase_and_creates_nothing(site):
    check = site["check"]
    assert check.rc == 0, failure_messages(check)
    counts = changed_per_play(check)
    plan = [n for n in counts if n.startswith("Plan")]
    assert plan and counts[plan[0]] == 0
    for phase in PHASES:
        assert _phase(counts, phase) > 0, (phase, counts)
    assert site["after_check"] == site["before"]


def test_site_converges_with_the_cluster_phase5_chose(lab, site):
    assert shown_summary(site["result"], "phase5_summary")["cluster"] == CHOSEN
    assert shown_summary(site["result"], "phase7_summary")["cluster"] == CHOSEN
    services = lab.client("ecs").list_services(cluster=CHOSEN)["serviceArns"]
    assert sorted(arn.rsplit("/", 1)[1] for arn in services) == sorted(FAMILIES)


def test_check_on_the_converged_lab_changes_nothing(lab, site, archives, workdir):
    # In French (cloudlab_lang=fr): the same facts, the summaries' words in the lab's language.
    check = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, cloudlab_lang="fr"),
                         check=True, diff=True)
    assert check.rc == 0, failure_messages(check)
    assert check.stats()["localhost"]["changed"] == 0, changed_tasks(check)
    english = dict((n, shown_lines(site["result"], n)) for n in (5, 6, 7, 8))
    french = dict((n, shown_lines(check, n)) for n in (5, 6, 7, 8))
    for number in (5, 6, 7, 8):
        assert french[number][0] == "Résumé de la phase %d (mode vérification : prévu, rien n'a changé)" % number
        assert english[number][0] == "Phase %d summary" % number
        assert len(french[number]) <= len(english[number]) + 1, (english[number], french[number])
    assert french[5][2].startswith("Tâche 5.2 cluster Fargate %s (arn:" % CHOSEN), french[5]
    assert french[7][1].startswith("Tâche 7.1 service ECS customer-microservice sur %s : inchangé, " % CHOSEN)
    for service in ("customer", "employee"):
        arn = shown_summary(check, "phase7_summary")["services"][service]["arn"]
        assert any(arn in line for line in french[7]) and any(arn in line for line in english[7]), arn


def test_a_port_change_is_refused_before_any_write(lab, site, archives, workdir):
    services = [{"name": "customer", "port": 8081},
                {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}]
    before = snapshot(lab)
    _checkout, commits = dev_commits(lab, workdir)
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives, microservices=services))
    assert result.rc != 0
    messages = failure_messages(result)
    assert "customer-tg-one of service customer: its Port cannot change" in messages, messages
    assert "set the service's port back" in messages
    plays = [play["play"]["name"] for play in result.data()["plays"]]
    assert len(plays) == 1 and plays[0].startswith("Plan"), plays
    assert snapshot(lab) == before
    assert dev_commits(lab, workdir)[1] == commits
    assert clone_url(lab)


def test_site_runs_as_awx_runs_it(site, lab, archives, workdir, tmp_path, monkeypatch):
    """site.yml through ansible_runner, AWX's and Automation Platform's engine, on the converged lab: a result for
    every task, none failed, nothing changed, status successful, no secret in artifacts/."""
    try:
        import ansible_runner  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        pytest.fail("ansible-runner cannot be imported in %s (%s): it is a development requirement "
                    "(requirements.txt, installed by make setup)" % (BIN, e))
    # The execution node's own environment: the venv's tools, no Ansible or AWS setting of this shell.
    for name in list(os.environ):
        if name.startswith(("ANSIBLE_", "AWS_", "LOCALCLOUD_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ.get("PATH", ""))
    pdd, env_secrets = awx_private_data_dir(tmp_path, lab, phase5_vars(workdir, archives))

    run = ansible_runner.run(private_data_dir=str(pdd), playbook="playbooks/site.yml", ident="site", quiet=True)

    events = list(run.events)
    stdout = "".join(e.get("stdout", "") + "\n" for e in events)
    assert (run.status, run.rc) == ("successful", 0), stdout[-6000:]
    # A meta task that runs (prune.yml's end_play when nothing is to prune) has no result event.
    started = dict((e["event_data"]["task_uuid"], e["event_data"]["task"]) for e in events
                   if e["event"] == "playbook_on_task_start" and e["event_data"]["task_action"] not in META)
    results = {}
    for e in events:
        if e["event"] in RESULT_EVENTS:
            results.setdefault(e["event_data"]["task_uuid"], []).append(e["event"])
    assert len(started) > 50, stdout[-6000:]
    assert [started[uuid] for uuid in started if uuid not in results] == [], stdout[-6000:]
    bad = dict((started.get(uuid, uuid), kinds) for uuid, kinds in results.items()
               if set(kinds) - {"runner_on_ok", "runner_on_skipped"})
    assert bad == {}, stdout[-6000:]
    (stats,) = [e["event_data"] for e in events if e["event"] == "playbook_on_stats"]
    assert stats["failures"] == {} and stats["dark"] == {} and stats["ok"], stats
    assert stats["changed"] == {}, [e["event_data"]["task"] for e in events
                                    if e["event"] == "runner_on_ok" and e["event_data"]["res"].get("changed")]
    assert secrets_in_artifacts(str(pdd / "artifacts"), env_secrets + inventory_secrets()) == []


def test_a_bad_phase8_input_is_refused_before_any_write(lab, site, archives, workdir):
    before = snapshot(lab)
    _checkout, commits = dev_commits(lab, workdir)
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives,
                                                            codedeploy_deployment_config="CodeDeployDefault.OneAtATime"))
    assert result.rc != 0
    messages = failure_messages(result)
    assert "value of codedeploy_deployment_config must be one of" in messages, messages
    plays = [play["play"]["name"] for play in result.data()["plays"]]
    assert len(plays) == 1 and plays[0].startswith("Plan"), plays
    assert snapshot(lab) == before
    assert dev_commits(lab, workdir)[1] == commits


def test_phases_7_and_8_alone_find_the_cluster_phase5_chose(lab, site):
    phase7 = run_playbook(lab, PHASE7)
    assert phase7.rc == 0, failure_messages(phase7)
    assert shown_summary(phase7, "phase7_summary")["cluster"] == CHOSEN
    assert phase7.stats()["localhost"]["changed"] == 0, changed_tasks(phase7)
    phase8 = run_playbook(lab, PHASE8)
    assert phase8.rc == 0, failure_messages(phase8)
    assert phase8.stats()["localhost"]["changed"] == 0, changed_tasks(phase8)
    groups = lab.client("codedeploy").batch_get_deployment_groups(
        applicationName="microservices", deploymentGroupNames=["microservices-customer", "microservices-employee"])
    assert [g["ecsServices"][0]["clusterName"] for g in groups["deploymentGroupsInfo"]] == [CHOSEN, CHOSEN]


def test_phase7_reports_no_change_when_phase6_drifted(lab, site):
    elbv2 = lab.client("elbv2")
    (group,) = elbv2.describe_target_groups(Names=["customer-tg-one"])["TargetGroups"]
    elbv2.modify_target_group(TargetGroupArn=group["TargetGroupArn"], HealthCheckPath="/drifted")
    try:
        result = run_playbook(lab, PHASE7)
        assert result.rc == 0, failure_messages(result)
        assert result.stats()["localhost"]["changed"] == 0, changed_tasks(result)
    finally:
        elbv2.modify_target_group(TargetGroupArn=group["TargetGroupArn"], HealthCheckPath="/")


def test_codedeploy_lookup_leaves_its_input_as_given(lab, site):
    result = run_playbook(lab, LOOKUP, check=True, extra_vars={"lookup_cluster": CHOSEN})
    assert result.rc == 0, failure_messages(result)
    assert shown_summary(result, "codedeploy_lookup")["input"] == {}
    assert result.stats()["localhost"]["changed"] == 0, changed_tasks(result)


READ_PLAN = os.path.join("tests", "e2e", "plays", "read_plan.yml")
PHASE78 = ("ecs_services", "codedeploy", "pipelines")


def _read_plan(lab):
    result = run_playbook(lab, READ_PLAN)
    assert result.rc == 0, failure_messages(result)
    assert result.stats()["localhost"]["changed"] == 0, changed_tasks(result)
    return shown_summary(result, "read_plan")


def test_lab_info_plans_phases_7_and_8_from_one_read(lab, site):
    """Converged: nothing planned for Phases 7 and 8. Then changed by hand, one thing per role, each is
    planned as a line (and put back)."""
    plan = _read_plan(lab)
    assert dict((r, plan[r]) for r in PHASE78) == dict((r, []) for r in PHASE78), plan

    ecs, cd, cp, events = (lab.client(s) for s in ("ecs", "codedeploy", "codepipeline", "events"))
    service = ecs.describe_services(cluster=CHOSEN, services=["customer-microservice"])["services"][0]
    # DescribeServices shows no tags unless asked: the ones put back come from the service's own list.
    service_tags = ecs.list_tags_for_resource(resourceArn=service["serviceArn"])["tags"]
    assert any(t["key"] == "cloudlab:service" for t in service_tags), service_tags
    group = cd.get_deployment_group(applicationName="microservices",
                                    deploymentGroupName="microservices-customer")["deploymentGroupInfo"]
    pipeline = cp.get_pipeline(name="update-customer-microservice")["pipeline"]
    rule_name = "update-employee-microservice-image"
    rule = events.describe_rule(Name=rule_name)
    targets = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    rule_tags = events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
    try:
        ecs.untag_resource(resourceArn=service["serviceArn"], tagKeys=["cloudlab:service"])
        cd.update_deployment_group(applicationName="microservices", currentDeploymentGroupName="microservices-customer",
                                   deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes")
        bent = copy.deepcopy(dict((k, v) for k, v in pipeline.items() if k != "version"))
        bent["stages"][0]["actions"][0]["configuration"]["BranchName"] = "main"
        cp.update_pipeline(pipeline=bent)
        events.remove_targets(Rule=rule_name, Ids=[t["Id"] for t in targets])
        events.delete_rule(Name=rule_name)

        plan = _read_plan(lab)
        assert plan["ecs_services"] == ["tag ECS service customer-microservice with cloudlab:service"], plan
        assert plan["codedeploy"] == ["update deployment group microservices-customer: deploymentConfigName"], plan
        assert plan["pipelines"] == [
            "update pipeline update-customer-microservice: its declaration differs",
            "create EventBridge rule %s of pipeline update-employee-microservice" % rule_name], plan
    finally:
        ecs.tag_resource(resourceArn=service["serviceArn"], tags=[t for t in service_tags if t["key"] == "cloudlab:service"])
        cd.update_deployment_group(applicationName="microservices", currentDeploymentGroupName="microservices-customer",
                                   deploymentConfigName=group["deploymentConfigName"])
        cp.update_pipeline(pipeline=dict((k, v) for k, v in pipeline.items() if k != "version"))
        events.put_rule(Name=rule_name, Description=rule["Description"], EventPattern=rule["EventPattern"],
                        State=rule["State"], Tags=rule_tags)
        events.put_targets(Rule=rule_name, Targets=targets)


# The write modules of each role whose plan can be [] (a role the plan skips runs none of them).
WRITES = {
    "ecr_repos": {"cloudlab.microservices.ecr_repository"},
    "image_push": {"cloudlab.microservices.ecr_image_push"},
    "codecommit_repo": {"community.aws.codecommit_repository"},
    "load_balancer": {"cloudlab.microservices.alb_target_groups", "amazon.aws.ec2_security_group",
                      "cloudlab.microservices.alb"},
    "ecs_services": {"cloudlab.microservices.ecs_codedeploy_service"},
    "codedeploy": {"cloudlab.microservices.codedeploy_deployment_group", "amazon.aws.elb_application_lb_info"},
    "pipelines": {"cloudlab.microservices.codepipeline_pipeline"},
}
READ_TASK = "Read the whole lab, read only"


def modules_run(result):
    """The actions of the tasks that ran (not skipped), in order, from the JSON callback's results."""
    out = []
    for play in result.data()["plays"]:
        for task in play["tasks"]:
            host = task["hosts"].get("localhost") or {}
            if host and not host.get("skipped"):
                out.append(host.get("action") or task["task"].get("action", ""))
    return out


def the_plan(result):
    """lab_info's plan, as the plan play read it."""
    (plan,) = [task["hosts"]["localhost"]["plan"] for task in result.data()["plays"][0]["tasks"]
               if task["task"]["name"] == READ_TASK]
    return plan


def test_a_phase8_drift_made_by_hand_is_planned_and_fixed(lab, site, archives, workdir):
    """A deployment group's configuration changed with boto3: the plan names it, only the codedeploy role of
    Phases 7 and 8 runs and puts it back; the next test's rerun (the same lab) is then a no-op."""
    cd = lab.client("codedeploy")
    cd.update_deployment_group(applicationName="microservices", currentDeploymentGroupName="microservices-employee",
                               deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes")
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives))
    assert result.rc == 0, failure_messages(result)
    plan = the_plan(result)
    assert plan["codedeploy"] == ["update deployment group microservices-employee: deploymentConfigName"], plan
    assert plan["ecs_services"] == [] and plan["pipelines"] == [], plan
    ran = set(modules_run(result))
    assert "cloudlab.microservices.codedeploy_deployment_group" in ran, ran
    assert not ran & (WRITES["ecs_services"] | WRITES["pipelines"]), ran
    group = cd.get_deployment_group(applicationName="microservices",
                                    deploymentGroupName="microservices-employee")["deploymentGroupInfo"]
    assert group["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    # The pipelines role skipped, its facts are the read's: the summary still names every pipeline.
    assert shown_summary(result, "phase8_summary")["pipelines"] == {
        "customer": "update-customer-microservice", "employee": "update-employee-microservice"}


def test_a_noop_rerun_plans_nothing_and_runs_no_write_module_of_a_converged_role(lab, site, archives, workdir):
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives))
    assert result.rc == 0, failure_messages(result)
    assert result.stats()["localhost"]["changed"] == 0, changed_tasks(result)
    plan = the_plan(result)
    ran = set(modules_run(result))
    for role, writes in WRITES.items():
        assert plan[role] == [], (role, plan[role])
        assert not ran & writes, (role, ran & writes)
    # One read for the run: the plan's lab_info, no lab_context_info, no target groups read in check mode.
    assert modules_run(result).count("cloudlab.microservices.lab_info") == 1
    # The bench's target: at most 6 module runs for a no-op rerun of the whole lab.
    count, by_action = module_runs(result.data())
    assert count <= 6, by_action
    # The deployment folder's check (Phase 5's preflight) predicted nothing to write: git_deployment_repo ran once;
    # the task definitions are their families' latest revisions as read: ecs_taskdef_sync did not run.
    assert by_action.get("cloudlab.microservices.git_deployment_repo") == 1, by_action
    assert "cloudlab.microservices.ecs_taskdef_sync" not in by_action, by_action
    assert sorted(shown_summary(result, "phase5_summary")["task_definitions"]) == ["customer", "employee"]
    assert "cloudlab.microservices.lab_context_info" not in ran
    # Phases 7 and 8 skipped their roles: what later steps and the summaries take comes from the read, and the
    # route check still ran on it (its own read of targets).
    phase7 = shown_summary(result, "phase7_summary")
    assert phase7["cluster"] == CHOSEN
    assert sorted(v["name"] for v in phase7["services"].values()) == sorted(FAMILIES), phase7
    assert all(v["status"] == "ACTIVE" and v["arn"] for v in phase7["services"].values()), phase7
    phase8 = shown_summary(result, "phase8_summary")
    assert phase8["application"] == "microservices"
    assert phase8["deployment_groups"] == {"customer": "microservices-customer", "employee": "microservices-employee"}
    assert sorted(phase8["routes"]) == ["customer", "employee"], phase8
    assert "cloudlab.microservices.alb_route_check" in ran


def test_a_drift_made_by_hand_is_planned_and_fixed(lab, site, archives, workdir):
    elbv2 = lab.client("elbv2")
    (group,) = elbv2.describe_target_groups(Names=["customer-tg-one"])["TargetGroups"]
    elbv2.modify_target_group(TargetGroupArn=group["TargetGroupArn"], HealthCheckPath="/drifted")
    (lb,) = elbv2.describe_load_balancers(Names=["microservicesLB"])["LoadBalancers"]
    listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    (production,) = [ls for ls in listeners if ls["Port"] == 80]
    (rule,) = [r for r in elbv2.describe_rules(ListenerArn=production["ListenerArn"])["Rules"] if not r["IsDefault"]]
    elbv2.delete_rule(RuleArn=rule["RuleArn"])

    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives))
    assert result.rc == 0, failure_messages(result)
    planned = the_plan(result)["load_balancer"]
    assert "update customer-tg-one health check path /drifted -> /" in planned, planned
    assert "create rule /admin/* of production listener HTTP:80" in planned, planned
    assert "cloudlab.microservices.alb" in modules_run(result)
    (group,) = elbv2.describe_target_groups(Names=["customer-tg-one"])["TargetGroups"]
    assert group["HealthCheckPath"] == "/"
    rules = [r for r in elbv2.describe_rules(ListenerArn=production["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert [c.get("Values") or c["PathPatternConfig"]["Values"] for r in rules for c in r["Conditions"]] == [["/admin/*"]]


def test_a_phase5_drift_made_by_hand_is_planned_and_fixed(lab, site, archives, workdir):
    """An ECR lifecycle policy removed and a repository's scan on push turned off by hand: the plan names both,
    ecr_repository puts them back; the image push (its archive's digest is ECR's) stays skipped."""
    ecr = lab.client("ecr")
    lifecycle = ecr.get_lifecycle_policy(repositoryName="customer")["lifecyclePolicyText"]
    ecr.delete_lifecycle_policy(repositoryName="customer")
    ecr.put_image_scanning_configuration(repositoryName="employee", imageScanningConfiguration={"scanOnPush": False})
    result = run_playbook(lab, SITE, extra_vars=phase5_vars(workdir, archives))
    assert result.rc == 0, failure_messages(result)
    plan = the_plan(result)
    assert plan["ecr_repos"] == ["set the lifecycle policy of ECR repository customer",
                                 "set scan on push of ECR repository employee"], plan
    assert plan["image_push"] == [], plan
    ran = set(modules_run(result))
    assert "cloudlab.microservices.ecr_repository" in ran and not ran & WRITES["image_push"], ran
    assert ecr.get_lifecycle_policy(repositoryName="customer")["lifecyclePolicyText"] == lifecycle
    (repo,) = ecr.describe_repositories(repositoryNames=["employee"])["repositories"]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    # The image push skipped, its digests are the read's: the summary still names each image.
    digests = shown_summary(result, "phase5_summary")["repositories"]
    assert sorted(digests) == ["customer", "employee"] and all(d.startswith("sha256:") for d in digests.values())
