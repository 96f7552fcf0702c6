"""Traffic goes where the service lives.

After a release the live task set of each service sits behind tg-one (the lab's first layout put production on
tg-two). A listener or rule that Phase 6 re-creates then forwards to tg-one, not to the empty tg-two; and the
check at the end of Phase 8 fails, naming the route, when a route leads to a group with no target while the other
group of the pair has some. The lab is the release tests' (tasks off): targets are registered by hand.
"""
import os

from localcloud.testing.lab import CLUSTER, SERVICES, traffic

from helpers import failure_messages, run_playbook, shown_summary


PHASE6 = os.path.join("playbooks", "phase6.yml")
PHASE8 = os.path.join("playbooks", "phase8.yml")
EXTRA = {"aws_context_db_instance": ""}
# The fixture makes the cluster with boto3, not through Phase 5's stack: phase8.yml's read-only lookup would take
# the name as held by another cluster and choose "<name>-c" (the lab's rule), so the route check would find no
# deployment in progress. Phase 5's fact says which cluster the lab has.
ROUTE_CHECK_EXTRA = dict(EXTRA, fargate_cluster_name=CLUSTER)


def _rules(elbv2, listener):
    return [r for r in elbv2.describe_rules(ListenerArn=listener)["Rules"] if not r["IsDefault"]]


def test_a_listener_and_a_rule_recreated_after_a_release_forward_to_the_live_target_group(lab):
    cloud = lab["cloud"]
    elbv2 = cloud.client("elbv2")
    # By hand: the production listener (its default route and its /admin/* rule) and the test listener's rule.
    elbv2.delete_listener(ListenerArn=lab["listeners"]["production"])
    for rule in _rules(elbv2, lab["listeners"]["test"]):
        elbv2.delete_rule(RuleArn=rule["RuleArn"])

    # Phase 6 run alone reads the lab first and, as for the route check below, would take "<name>-c" for the
    # fixture's stack-less cluster: Phase 5's fact names the cluster whose task sets say which group is live.
    result = run_playbook(cloud, PHASE6, extra_vars=ROUTE_CHECK_EXTRA)
    assert result.rc == 0, failure_messages(result)
    lb = elbv2.describe_load_balancers(Names=["microservicesLB"])["LoadBalancers"][0]["LoadBalancerArn"]
    ports = dict((l["Port"], l["ListenerArn"]) for l in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"])
    made = dict(lab, listeners={"production": ports[80], "test": ports[8080]})
    for svc in SERVICES:
        # Both services' task sets are PRIMARY behind tg-one: tg-two has nothing to answer with.
        assert traffic(cloud, made, svc) == {"production": ["%s-tg-one" % svc], "test": ["%s-tg-one" % svc]}
    routes = shown_summary(result, "phase6_summary")["routes"]
    assert routes["production"]["target_group"] == "customer-tg-one"
    assert [r["target_group"] for r in routes["production"]["rules"]] == ["employee-tg-one"]

    again = run_playbook(cloud, PHASE6, extra_vars=ROUTE_CHECK_EXTRA)
    assert again.rc == 0, failure_messages(again)
    assert again.stats()["localhost"]["changed"] == 0


def test_the_route_check_after_phase8_fails_on_a_route_to_the_empty_group_of_a_live_pair(lab):
    cloud = lab["cloud"]
    elbv2 = cloud.client("elbv2")
    groups = lab["target_groups"]
    # What a running task of each service leaves: a target in the group of its live task set (tg-one).
    for svc in SERVICES:
        elbv2.register_targets(TargetGroupArn=groups[svc]["one"]["arn"], Targets=[{"Id": "10.16.0.10", "Port": 8080}])

    ok = run_playbook(cloud, PHASE8, extra_vars=ROUTE_CHECK_EXTRA, tags=["route_check"])
    assert ok.rc == 0, failure_messages(ok)
    routes = shown_summary(ok, "phase8_summary")["routes"]
    assert routes["employee"]["production"] == {
        "port": 80, "route": "rule /admin/*", "target_groups": ["employee-tg-one"],
        "registered": {"employee-tg-one": 1, "employee-tg-two": 0}, "status": "ok"}
    assert set(r["status"] for svc in routes.values() for r in svc.values()) == {"ok"}

    # What today's Phase 6 did to a re-created rule: production /admin/* on employee-tg-two, which has no target.
    rule = _rules(elbv2, lab["listeners"]["production"])[0]
    elbv2.modify_rule(RuleArn=rule["RuleArn"], Actions=[{"Type": "forward",
                                                         "TargetGroupArn": groups["employee"]["two"]["arn"]}])
    # While a deployment runs (a second task set), its replacement has targets before the listeners move to it.
    ecs = cloud.client("ecs")
    service = ecs.describe_services(cluster=CLUSTER, services=["employee-microservice"])["services"][0]
    replacement = ecs.create_task_set(
        cluster=CLUSTER, service="employee-microservice", taskDefinition=service["taskDefinition"],
        launchType="FARGATE", networkConfiguration=service["networkConfiguration"],
        loadBalancers=[{"targetGroupArn": groups["employee"]["two"]["arn"], "containerName": "employee",
                        "containerPort": 8080}])["taskSet"]
    during = run_playbook(cloud, PHASE8, extra_vars=ROUTE_CHECK_EXTRA, tags=["route_check"])
    assert during.rc == 0, failure_messages(during)
    assert shown_summary(during, "phase8_summary")["routes"]["employee"]["production"]["status"] == "deploying"
    ecs.delete_task_set(cluster=CLUSTER, service="employee-microservice", taskSet=replacement["id"], force=True)

    stranded = run_playbook(cloud, PHASE8, extra_vars=ROUTE_CHECK_EXTRA, tags=["route_check"])
    assert stranded.rc != 0
    message = failure_messages(stranded)
    assert ("production listener HTTP:80 sends employee's rule /admin/* to employee-tg-two, which has no registered "
            "target (requests answer 503) while employee-tg-one has 1 registered target(s): point it at "
            "employee-tg-one") in message, message
    assert "test listener" not in message and "customer" not in message.split("Failed to check", 1)[1], message
    assert stranded.stats()["localhost"]["changed"] == 0
