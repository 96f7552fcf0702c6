"""Where a (re)created route forwards, and which routes strand a service's traffic (module_utils/_alb.py)."""

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _alb as alb
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

SERVICES = [{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*"}]
PORTS = {"production": 80, "test": 8080}


def arn(name):
    return "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/%s/0123456789abcdef" % name


ARNS = dict((name, arn(name)) for name in _lab.target_groups(SERVICES))


def service(name, group, status="ACTIVE", task_sets=True):
    """An ECS CODE_DEPLOY service as DescribeServices answers, its PRIMARY task set behind `group`."""
    lbs = [{"targetGroupArn": arn(group), "containerName": name, "containerPort": 8080}]
    other = "%s-tg-%s" % (name, "two" if group.endswith("one") else "one")
    described = {"serviceName": "%s-microservice" % name, "status": status,
                 "loadBalancers": [{"targetGroupArn": arn(other), "containerName": name, "containerPort": 8080}]}
    if task_sets:
        described["taskSets"] = [{"status": "ACTIVE", "loadBalancers": [dict(lbs[0], targetGroupArn=arn(other))]},
                                 {"status": "PRIMARY", "loadBalancers": lbs}]
    else:
        described["loadBalancers"] = lbs
    return described


def test_live_group_is_the_primary_task_sets_not_the_services_first_one():
    described = {"employee-microservice": service("employee", "employee-tg-one"),
                 "customer-microservice": service("customer", "customer-tg-two", task_sets=False)}
    assert alb.live_groups(SERVICES, described) == {"employee": "employee-tg-one", "customer": "customer-tg-two"}


@pytest.mark.parametrize("described", [
    {},
    {"employee-microservice": None},
    {"employee-microservice": service("employee", "employee-tg-one", status="DRAINING")},
    {"employee-microservice": service("employee", "other-tg")},
])
def test_nothing_is_live_without_an_active_service_behind_its_pair(described):
    assert alb.live_groups(SERVICES, described) == {}


def test_a_recreated_route_forwards_to_the_live_group_on_both_listeners():
    live = {"employee": "employee-tg-one"}
    wanted = alb.routes(SERVICES, PORTS)
    rules = dict((r["listener"], r["rules"][0]) for r in wanted)
    # The lab's first layout would send production to employee-tg-two, empty after the release.
    assert rules["production"]["target_group"] == "employee-tg-two"
    assert alb.route_target(rules["production"], live) == "employee-tg-one"
    assert alb.route_target(rules["test"], live) == "employee-tg-one"
    defaults = dict((r["listener"], r) for r in wanted)
    assert alb.route_target(defaults["production"], live) == "customer-tg-two"
    assert alb.route_target(defaults["test"], live) == "customer-tg-one"


def forward(*weighted):
    if len(weighted) == 1 and isinstance(weighted[0], str):
        return [{"Type": "forward", "TargetGroupArn": arn(weighted[0])}]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": arn(name), "Weight": weight} for name, weight in weighted]}}]


def listeners(customer, employee, test_employee=None):
    def listener(actions, rule_actions):
        rules = [] if rule_actions is None else [{"RuleArn": "r", "Priority": "10", "Actions": rule_actions,
                                                  "Conditions": [{"Field": "path-pattern", "Values": ["/admin/*"]}]}]
        return {"ListenerArn": "l", "Port": 80, "DefaultActions": actions}, rules
    production = listener(customer, employee)
    test = listener(customer, test_employee if test_employee is not None else employee)
    return {"production": (80,) + production, "test": (8080,) + test}


def registered(**counts):
    return dict((arn(name.replace("_", "-")), count) for name, count in counts.items())


def test_routes_on_the_live_groups_are_ok_and_a_zero_weight_original_is_not_reached():
    after_release = forward(("employee-tg-two", 0), ("employee-tg-one", 100))
    report, problems = alb.check_routes(SERVICES, listeners(forward("customer-tg-one"), after_release), ARNS,
                                        registered(customer_tg_one=1, employee_tg_one=2))
    assert problems == []
    assert report["employee"]["production"] == {
        "port": 80, "route": "rule /admin/*", "target_groups": ["employee-tg-one"],
        "registered": {"employee-tg-one": 2, "employee-tg-two": 0}, "status": "ok"}
    assert report["customer"]["test"]["status"] == "ok"


def test_a_route_to_the_empty_group_of_a_live_pair_is_a_problem_that_names_the_way_on():
    report, problems = alb.check_routes(
        SERVICES, listeners(forward("customer-tg-one"), forward("employee-tg-two"), forward("employee-tg-one")),
        ARNS, registered(customer_tg_one=1, employee_tg_one=1))
    assert report["employee"]["production"]["status"] == "empty"
    assert report["employee"]["test"]["status"] == "ok"
    assert len(problems) == 1
    assert problems[0].startswith("production listener HTTP:80 sends employee's rule /admin/* to employee-tg-two, "
                                  "which has no registered target (requests answer 503) while employee-tg-one "
                                  "has 1 registered target(s): point it at employee-tg-one")
    assert "playbooks/phase6.yml" in problems[0]


def test_a_service_without_targets_is_reported_not_failed():
    report, problems = alb.check_routes(SERVICES, listeners(forward("customer-tg-two"), forward("employee-tg-two")),
                                        ARNS, {})
    assert problems == []
    assert set(r["status"] for svc in report.values() for r in svc.values()) == {"no targets"}


def test_a_missing_rule_or_a_forward_outside_the_pair_is_a_problem_when_the_service_has_targets():
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}]
    report, problems = alb.check_routes(
        SERVICES, listeners(forward("customer-tg-one"), None, fixed), ARNS,
        registered(customer_tg_one=1, employee_tg_one=1))
    assert report["employee"]["production"]["status"] == "missing"
    assert report["employee"]["test"]["status"] == "elsewhere"
    assert [p.split(" while ")[0] for p in problems] == [
        "production listener HTTP:80 has no rule /admin/* for employee",
        "test listener HTTP:8080 sends employee's rule /admin/* to fixed-response, outside its pair"]


def test_a_service_with_two_task_sets_is_deploying_and_its_empty_route_no_problem():
    described = {"employee-microservice": service("employee", "employee-tg-one"),
                 "customer-microservice": service("customer", "customer-tg-one", task_sets=False)}
    assert alb.deploying(SERVICES, described) == {"employee"}
    report, problems = alb.check_routes(
        SERVICES, listeners(forward("customer-tg-one"), forward("employee-tg-two")), ARNS,
        registered(customer_tg_one=1, employee_tg_one=1), alb.deploying(SERVICES, described))
    assert problems == []
    assert report["employee"]["production"]["status"] == "deploying"


def test_the_labs_layout_between_deployments_is_not_a_problem_but_an_empty_production_route_still_is():
    # Before the first deployment (the lab's own layout): employee's production rule on tg-two, where its task
    # runs, and its test rule on tg-one, where CodeDeploy's next replacement starts.
    first = listeners(forward("customer-tg-two"), forward("employee-tg-two"), forward("employee-tg-one"))
    report, problems = alb.check_routes(SERVICES, first, ARNS, registered(customer_tg_two=1, employee_tg_two=1))
    assert problems == []
    assert report["employee"]["test"]["status"] == "standby"
    assert report["customer"]["test"]["status"] == "ok"
    # Production on the empty group stays a problem, and then so does the test route on it.
    swapped = listeners(forward("customer-tg-two"), forward("employee-tg-one"), forward("employee-tg-one"))
    report, problems = alb.check_routes(SERVICES, swapped, ARNS, registered(customer_tg_two=1, employee_tg_two=1))
    assert report["employee"]["production"]["status"] == "empty"
    assert report["employee"]["test"]["status"] == "empty"
    assert len(problems) == 2
