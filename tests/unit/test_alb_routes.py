"""Where a (re)created route forwards, and which routes strand a service's traffic (module_utils/_alb.py)."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

alb = pytest.importorskip("ansible_collections.cloudlab.microservices.plugins.module_utils._alb")

SERVICES = [{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*"}]
PORTS = {"production": 80, "test": 8080}


def arn(name):
    return "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/%s/0123456789abcdef" % name


ARNS = dict((name, arn(name)) for name in alb.target_group_names(SERVICES))


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

