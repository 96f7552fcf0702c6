"""Traffic goes where the service lives.

After a release the live task set of each service sits behind tg-one (the lab's first layout put production on
tg-two). A listener or rule that Phase 6 re-creates then forwards to tg-one, not to the empty tg-two. The lab is
the release tests' (tasks off).
"""
import os

from conftest import failure_messages, run_playbook, shown_summary

from .conftest import SERVICES, traffic

PHASE6 = os.path.join("playbooks", "phase6.yml")
EXTRA = {"aws_context_db_instance": ""}


def _rules(elbv2, listener):
    return [r for r in elbv2.describe_rules(ListenerArn=listener)["Rules"] if not r["IsDefault"]]


def test_a_listener_and_a_rule_recreated_after_a_release_forward_to_the_live_target_group(lab):
    cloud = lab["cloud"]
    elbv2 = cloud.client("elbv2")
    # By hand: the production listener (its default route and its /admin/* rule) and the test listener's rule.
    elbv2.delete_listener(ListenerArn=lab["listeners"]["production"])
    for rule in _rules(elbv2, lab["listeners"]["test"]):
        elbv2.delete_rule(RuleArn=rule["RuleArn"])

    result = run_playbook(cloud, PHASE6, extra_vars=EXTRA)
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

    again = run_playbook(cloud, PHASE6, extra_vars=EXTRA)
    assert again.rc == 0, failure_messages(again)
    assert again.stats()["localhost"]["changed"] == 0

