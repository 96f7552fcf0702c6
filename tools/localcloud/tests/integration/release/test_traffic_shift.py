"""Traffic shifting by the deployment configuration, StopDeployment and rollbacks, on the local cloud.

The release cloud lasts an AWS minute 0.3 s (LOCALCLOUD_CODEDEPLOY_MINUTE_SECONDS): the tests poll the
APIs for the states a shift goes through and assert what they saw, never how long it took.
"""
import time

import botocore.exceptions
import pytest

from localcloud.release import traffic_steps

from localcloud.testing.lab import APP, CLUSTER, appspec, taskdef, traffic, wait_execution

SVC = "employee"
GROUP = "%s-%s" % (APP, SVC)
ENDED = ("Succeeded", "Failed", "Stopped")


def _use(lab, config, rollback_events=None, **extra):
    """The service's deployment group with this deployment configuration (and automatic rollbacks)."""
    params = dict(applicationName=APP, currentDeploymentGroupName=GROUP, deploymentConfigName=config, **extra)
    if rollback_events is not None:
        params["autoRollbackConfiguration"] = {"enabled": bool(rollback_events), "events": rollback_events}
    lab["cloud"].client("codedeploy").update_deployment_group(**params)


def _start(lab):
    """A CreateDeployment of a new task definition revision; returns (deployment id, taskdef ARN)."""
    cloud = lab["cloud"]
    definition = taskdef(SVC, image="%s@%s" % (SVC, lab["digests"][SVC]))
    arn = cloud.client("ecs").register_task_definition(
        family=definition["family"], networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512",
        memory="1024", containerDefinitions=definition["containerDefinitions"])["taskDefinition"]["taskDefinitionArn"]
    deployment_id = cloud.client("codedeploy").create_deployment(
        applicationName=APP, deploymentGroupName=GROUP,
        revision={"revisionType": "AppSpecContent",
                  "appSpecContent": {"content": appspec(SVC).replace("<TASK_DEFINITION>", arn)}})["deploymentId"]
    return deployment_id, arn


def _production(lab):
    """{target group name: weight} the production listener's rule of the service forwards to."""
    elbv2 = lab["cloud"].client("elbv2")
    names = dict((lab["target_groups"][SVC][w]["arn"], lab["target_groups"][SVC][w]["name"]) for w in ("one", "two"))
    found = []
    for rule in elbv2.describe_rules(ListenerArn=lab["listeners"]["production"])["Rules"]:
        for action in rule["Actions"]:
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
            if groups and all(g["TargetGroupArn"] in names for g in groups):
                found.append(dict((names[g["TargetGroupArn"]], g["Weight"]) for g in groups))
            elif action.get("TargetGroupArn") in names:
                found.append({names[action["TargetGroupArn"]]: 100})
    assert len(found) == 1, found
    return found[0]


def _observe(lab, deployment_id, until=lambda seen: seen["status"] in ENDED, timeout=60):
    """Poll the deployment until `until(last observation)`; returns every observation (no timing asserted)."""
    codedeploy = lab["cloud"].client("codedeploy")
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        targets = codedeploy.list_deployment_targets(deploymentId=deployment_id)["targetIds"]
        target = {}
        if targets:
            target = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=targets[0])[
                "deploymentTarget"]["ecsTarget"]
        events = dict((e["lifecycleEventName"], e["status"]) for e in target.get("lifecycleEvents", []))
        observation = {"status": info["status"], "overview": info["deploymentOverview"], "info": info,
                       "allow": events.get("AllowTraffic"), "events": events, "production": _production(lab),
                       "weights": dict((t["taskSetLabel"], (t["trafficWeight"], t["status"]))
                                       for t in target.get("taskSetsInfo", []))}
        seen.append(observation)
        if until(observation):
            return seen
        time.sleep(0.05)
    raise AssertionError("deployment %s: the awaited state did not come in %ss; last seen %s"
                         % (deployment_id, timeout, seen[-1] if seen else None))


def _pair(lab):
    """(blue, green): the target group the production traffic is on now, and the other one of the pair."""
    blue = traffic(lab["cloud"], lab, SVC)["production"][0]
    green = [lab["target_groups"][SVC][w]["name"] for w in ("one", "two")
             if lab["target_groups"][SVC][w]["name"] != blue][0]
    return blue, green


def _task_sets(lab):
    service = lab["cloud"].client("ecs").describe_services(cluster=CLUSTER, services=["%s-microservice" % SVC])[
        "services"][0]
    return [(t["status"], t["taskDefinition"]) for t in service["taskSets"]]


def test_traffic_steps_follow_the_configuration():
    assert traffic_steps({"type": "AllAtOnce"}) == [(100.0, 0)]
    assert traffic_steps({"type": "TimeBasedCanary", "timeBasedCanary": {
        "canaryPercentage": 10, "canaryInterval": 5}}) == [(10.0, 5), (100.0, 0)]
    assert traffic_steps({"type": "TimeBasedLinear", "timeBasedLinear": {
        "linearPercentage": 10, "linearInterval": 3}}) == [(float(w), 3) for w in range(10, 100, 10)] + [(100.0, 0)]
    assert traffic_steps({"type": "TimeBasedLinear", "timeBasedLinear": {
        "linearPercentage": 30, "linearInterval": 1}}) == [(30.0, 1), (60.0, 1), (90.0, 1), (100.0, 0)]


def test_canary_weights_the_production_listener_then_moves_all(lab):
    cloud = lab["cloud"]
    blue, green = _pair(lab)
    _use(lab, "CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment_id, arn = _start(lab)
    seen = _observe(lab, deployment_id)

    # Mid-shift: a weighted forward, 10% on the replacement, AllowTraffic still running.
    assert {blue: 90, green: 10} in [s["production"] for s in seen]
    canary = [s for s in seen if s["weights"].get("Green", (0,))[0] == 10.0]
    assert canary, [s["weights"] for s in seen]
    assert canary[0]["weights"] == {"Blue": (90.0, "PRIMARY"), "Green": (10.0, "ACTIVE")}
    assert canary[0]["allow"] == "InProgress" and canary[0]["status"] == "InProgress"
    assert canary[0]["overview"]["InProgress"] == 1
    assert canary[0]["events"]["BeforeAllowTraffic"] == "Succeeded"
    assert canary[0]["events"]["AfterAllowTraffic"] == "Pending"
    # Only the canary and then everything: no other weight.
    assert {s["production"].get(green) for s in seen} <= {None, 10, 100}

    # The end: all traffic on the replacement, which is the only task set left.
    last = seen[-1]
    assert last["status"] == "Succeeded", last["info"]
    assert last["info"]["deploymentConfigName"] == "CodeDeployDefault.ECSCanary10Percent5Minutes"
    assert last["weights"] == {"Blue": (0.0, "ACTIVE"), "Green": (100.0, "PRIMARY")}
    assert set(last["events"].values()) == {"Succeeded"}
    assert traffic(cloud, lab, SVC) == {"production": [green], "test": [green]}
    assert _production(lab) == {green: 100, blue: 0}
    assert _task_sets(lab) == [("PRIMARY", arn)]


def test_linear_goes_through_its_steps(lab):
    blue, green = _pair(lab)
    _use(lab, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
    deployment_id, _arn = _start(lab)
    seen = _observe(lab, deployment_id)
    assert seen[-1]["status"] == "Succeeded", seen[-1]["info"]

    shifted = []
    for observation in seen:
        weight = observation["production"].get(green, 0)
        if not shifted or shifted[-1] != weight:
            shifted.append(weight)
    # Up by 10 at a time (a poll may fall between two steps), never back, and all of it at the end.
    assert shifted == sorted(shifted) and shifted[-1] == 100, shifted
    middle = [w for w in shifted if 0 < w < 100]
    assert set(middle) <= set(range(10, 100, 10)) and len(middle) >= 2, shifted
    for observation in seen:
        if 0 < observation["production"].get(green, 0) < 100:
            assert observation["production"][green] + observation["production"][blue] == 100
    assert traffic(lab["cloud"], lab, SVC)["production"] == [green]


def test_custom_configuration_shifts_by_its_routing(lab):
    codedeploy = lab["cloud"].client("codedeploy")
    codedeploy.create_deployment_config(
        deploymentConfigName="HalfThenAll", computePlatform="ECS",
        trafficRoutingConfig={"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 50,
                                                                             "linearInterval": 5}})
    blue, green = _pair(lab)
    _use(lab, "HalfThenAll")
    deployment_id, _arn = _start(lab)
    seen = _observe(lab, deployment_id)
    assert seen[-1]["status"] == "Succeeded", seen[-1]["info"]
    assert {blue: 50, green: 50} in [s["production"] for s in seen]
    assert {s["production"].get(green) for s in seen} <= {None, 50, 100}
    assert seen[-1]["info"]["deploymentConfigName"] == "HalfThenAll"
    assert _production(lab) == {green: 100, blue: 0}


def _mid_shift(observation):
    return observation["status"] in ENDED or observation["weights"].get("Green", (0,))[0] == 10.0


def test_stop_with_rollback_puts_the_listeners_back(lab):
    cloud = lab["cloud"]
    codedeploy = cloud.client("codedeploy")
    before = traffic(cloud, lab, SVC)
    task_sets = _task_sets(lab)
    blue, green = _pair(lab)
    _use(lab, "CodeDeployDefault.ECSCanary10Percent15Minutes")
    deployment_id, _arn = _start(lab)
    seen = _observe(lab, deployment_id, until=_mid_shift)
    assert seen[-1]["status"] == "InProgress" and seen[-1]["production"] == {blue: 90, green: 10}

    answer = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert answer["status"] == "Pending"
    last = _observe(lab, deployment_id)[-1]
    assert last["status"] == "Stopped", last["info"]
    assert last["info"]["errorInformation"]["code"] == "MANUAL_STOP"
    assert last["events"]["AllowTraffic"] == "Failed" and last["events"]["AfterAllowTraffic"] == "Skipped"

    # Traffic back on the original task set; the replacement is gone.
    assert traffic(cloud, lab, SVC) == before
    assert _production(lab) == {blue: 100, green: 0}
    assert _task_sets(lab) == task_sets
    assert last["weights"] == {"Blue": (100.0, "PRIMARY")}

    # The rollback deployment AWS records, both linked.
    rollback_id = last["info"]["rollbackInfo"]["rollbackDeploymentId"]
    rollback = codedeploy.get_deployment(deploymentId=rollback_id)["deploymentInfo"]
    assert rollback["creator"] == "codeDeployRollback" and rollback["status"] == "Succeeded"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment_id

    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        codedeploy.stop_deployment(deploymentId=deployment_id)
    assert excinfo.value.response["Error"]["Code"] == "DeploymentAlreadyCompletedException"


def test_stop_rolls_back_by_the_group_configuration(lab):
    """No autoRollbackEnabled given: the group's DEPLOYMENT_STOP_ON_REQUEST decides."""
    blue, green = _pair(lab)
    _use(lab, "CodeDeployDefault.ECSCanary10Percent15Minutes", rollback_events=["DEPLOYMENT_STOP_ON_REQUEST"])
    deployment_id, _arn = _start(lab)
    _observe(lab, deployment_id, until=_mid_shift)
    lab["cloud"].client("codedeploy").stop_deployment(deploymentId=deployment_id)
    last = _observe(lab, deployment_id)[-1]
    assert last["status"] == "Stopped" and "rollbackDeploymentId" in last["info"]["rollbackInfo"]
    assert _production(lab) == {blue: 100, green: 0}


def test_stop_without_rollback_leaves_the_shift_where_it_was(lab):
    blue, green = _pair(lab)
    _use(lab, "CodeDeployDefault.ECSCanary10Percent15Minutes")
    deployment_id, arn = _start(lab)
    _observe(lab, deployment_id, until=_mid_shift)
    lab["cloud"].client("codedeploy").stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    last = _observe(lab, deployment_id)[-1]
    assert last["status"] == "Stopped"
    assert "rollbackInfo" not in last["info"]
    assert _production(lab) == {blue: 90, green: 10}
    assert ("ACTIVE", arn) in _task_sets(lab) and len(_task_sets(lab)) == 2

    # The next deployment starts from there and ends with all traffic on its replacement.
    _use(lab, "CodeDeployDefault.ECSAllAtOnce")
    next_id, _next_arn = _start(lab)
    assert _observe(lab, next_id)[-1]["status"] == "Succeeded"
    assert _production(lab) == {green: 100, blue: 0}


@pytest.mark.parametrize("events, production", [
    ([], "green"),
    (["DEPLOYMENT_FAILURE"], "blue"),
], ids=["no-rollback", "rollback-on-failure"])
def test_a_failure_after_traffic_moved_rolls_back_by_the_group(lab, events, production):
    """The second production listener does not exist: AllowTraffic fails after the first one moved."""
    blue, green = _pair(lab)
    group = lab["cloud"].client("codedeploy").get_deployment_group(applicationName=APP, deploymentGroupName=GROUP)[
        "deploymentGroupInfo"]
    info = group["loadBalancerInfo"]
    pair = info["targetGroupPairInfoList"][0]
    pair["prodTrafficRoute"]["listenerArns"].append(lab["listeners"]["production"] + "0")
    _use(lab, "CodeDeployDefault.ECSAllAtOnce", rollback_events=events, loadBalancerInfo=info)
    deployment_id, _arn = _start(lab)
    last = _observe(lab, deployment_id)[-1]
    assert last["status"] == "Failed"
    assert last["info"]["errorInformation"]["code"] == "ELASTIC_LOAD_BALANCING_INVALID"
    live = {"blue": blue, "green": green}[production]
    assert _production(lab) == {live: 100, (green if live == blue else blue): 0}
    assert ("rollbackInfo" in last["info"]) == bool(events)


def test_stop_right_after_create_changes_nothing(lab):
    """Stopped wherever it was (queued, installing or shifting): with the rollback, all is as before."""
    cloud = lab["cloud"]
    before, task_sets = traffic(cloud, lab, SVC), _task_sets(lab)
    _use(lab, "CodeDeployDefault.ECSCanary10Percent15Minutes")
    deployment_id, _arn = _start(lab)
    cloud.client("codedeploy").stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert _observe(lab, deployment_id)[-1]["status"] == "Stopped"
    assert traffic(cloud, lab, SVC) == before and _task_sets(lab) == task_sets


def test_a_stopped_deployment_fails_the_pipeline_deploy_action(lab):
    cloud = lab["cloud"]
    blue, green = _pair(lab)
    codedeploy = cloud.client("codedeploy")
    known = set(codedeploy.list_deployments(applicationName=APP, deploymentGroupName=GROUP)["deployments"])
    _use(lab, "CodeDeployDefault.ECSCanary10Percent15Minutes")
    lab["deployment"].push({"README.md": "release 2\n"}, "a change on dev")
    deadline = time.time() + 60
    while time.time() < deadline:
        ids = sorted(set(codedeploy.list_deployments(applicationName=APP, deploymentGroupName=GROUP)[
            "deployments"]) - known)
        if ids:
            break
        time.sleep(0.05)
    assert ids, "the push started no deployment"
    _observe(lab, ids[0], until=_mid_shift)
    codedeploy.stop_deployment(deploymentId=ids[0], autoRollbackEnabled=True)
    execution, _summaries = wait_execution(cloud, "update-%s-microservice" % SVC, count=2)
    assert execution["status"] == "Failed"
    actions = cloud.client("codepipeline").list_action_executions(
        pipelineName="update-%s-microservice" % SVC,
        filter={"pipelineExecutionId": execution["pipelineExecutionId"]})["actionExecutionDetails"]
    deploy = [a for a in actions if a["actionName"] == "Deploy"][0]
    assert deploy["status"] == "Failed"
    assert "Deployment %s was stopped" % ids[0] in deploy["output"]["executionResult"]["externalExecutionSummary"]
    assert _production(lab) == {blue: 100, green: 0}
