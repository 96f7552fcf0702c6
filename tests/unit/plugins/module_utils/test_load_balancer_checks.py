"""The load_balancer role's input rules (module_utils/_checks/load_balancer.py) and the routes and
convergence rules of module_utils/_alb.py, each with a case that breaks it."""

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import load_balancer as _checks
from ansible_collections.cloudlab.microservices.plugins.module_utils import _alb
from ansible_collections.cloudlab.microservices.plugins.module_utils import _services

LAB = [{"name": "customer"}, {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}]
VALUES = {
    "load_balancer_name": "microservicesLB",
    "load_balancer_security_group_name": "microservices-sg",
    "load_balancer_vpc_id": "vpc-0123456789abcdef0",
    "load_balancer_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    "load_balancer_ingress_cidrs": ["0.0.0.0/0"],
    "load_balancer_production_port": 80,
    "load_balancer_test_port": 8080,
    "load_balancer_state": "present",
}


def problems(services=None, **values):
    merged = dict(VALUES, **values)
    return _checks.check(merged, _services.check_services(services or LAB, variable="load_balancer_services"))


def refused(services):
    with pytest.raises(_services.ServiceError) as err:
        _services.check_services(services, variable="load_balancer_services")
    return str(err.value)


def test_the_lab_inputs_pass():
    assert problems() == []


# The four refusals of the issue: the same path pattern twice, a health check path without '/', a port
# out of range, a second service without a path pattern.
def test_two_services_with_the_same_path_pattern_are_refused():
    msg = refused(LAB + [{"name": "inventory", "path_pattern": "/admin/*"}])
    assert "two services have the same path_pattern '/admin/*'" in msg


def test_a_health_check_path_without_a_leading_slash_is_refused():
    assert "health_check_path 'admin/suppliers' must start with '/'" in refused(
        [{"name": "customer"}, dict(LAB[1], health_check_path="admin/suppliers")])


@pytest.mark.parametrize("port", [0, 65536, 70000])
def test_a_service_port_outside_1_to_65535_is_refused(port):
    assert "port %d is not a number from 1 to 65535" % port in refused([{"name": "customer", "port": port}, LAB[1]])


def test_a_second_service_without_path_pattern_is_refused():
    found = problems([{"name": "customer"}, {"name": "employee"}])
    assert found == ["load_balancer_services[1] (service employee) has no path_pattern: every service but the first "
                     "needs one, the path its listener rule routes (such as /employee/*)"]


def test_the_first_service_takes_no_path_pattern():
    found = problems([dict(LAB[0], path_pattern="/"), LAB[1]])
    assert len(found) == 1 and "first service is the listeners' default route" in found[0]


@pytest.mark.parametrize("key, value, expected", [
    ("load_balancer_production_port", 0, "load_balancer_production_port is 0: a port is a number from 1 to 65535"),
    ("load_balancer_test_port", 65536, "load_balancer_test_port is 65536"),
    ("load_balancer_test_port", 80, "are both 80"),
    ("load_balancer_name", "a" * 33, "load_balancer_name is 'aaaa"),
    ("load_balancer_name", "-lb", "not starting or ending with a hyphen"),
    ("load_balancer_name", "internal-lb", "nor starting with internal-"),
    ("load_balancer_security_group_name", "sg-mine", "not starting with sg-"),
    ("load_balancer_ingress_cidrs", ["10.0.0.1/24"], "'10.0.0.1/24', which is not an IPv4 CIDR"),
    ("load_balancer_ingress_cidrs", ["everyone"], "'everyone', which is not an IPv4 CIDR"),
    ("load_balancer_ingress_cidrs", ["::/0"], "the load balancer is IPv4 only"),
    ("load_balancer_ingress_cidrs", [], "load_balancer_ingress_cidrs is empty"),
    ("load_balancer_vpc_id", "", "load_balancer_vpc_id is ''"),
    ("load_balancer_subnet_ids", ["subnet-0123456789abcdef0"], "needs two subnets in two Availability Zones"),
    ("load_balancer_subnet_ids", ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"], "needs two subnets"),
    ("load_balancer_subnet_ids", ["PublicSubnet1", "subnet-0123456789abcdef0"], "has 'PublicSubnet1'"),
])
def test_each_rule_refuses_what_aws_refuses(key, value, expected):
    found = problems(**{key: value})
    assert len(found) == 1 and expected in found[0], found


def test_removal_needs_no_network():
    assert problems(load_balancer_state="absent", load_balancer_vpc_id="", load_balancer_subnet_ids=[],
                    services=[{"name": "customer"}, {"name": "employee"}]) == []


def test_target_group_names_are_at_most_32_characters():
    long = {"name": "x" * 26}  # one more than _services allows, to reach the rule itself
    found = _checks._service_problems([{"name": "customer", "path_pattern": ""}, dict(long, path_pattern="/x/*")])
    assert found == ["target group name %s-tg-one is 33 characters, AWS allows 32: shorten the service name" % ("x" * 26),
                     "target group name %s-tg-two is 33 characters, AWS allows 32: shorten the service name" % ("x" * 26)]


def test_routes_follow_the_lab():
    services = _services.check_services(LAB + [{"name": "inventory", "path_pattern": "/inventory/*"}])
    prod, test = _alb.routes(services, {"production": 80, "test": 8080})
    assert (prod["port"], prod["target_group"], prod["alternate"]) == (80, "customer-tg-two", "customer-tg-one")
    assert (test["port"], test["target_group"], test["alternate"]) == (8080, "customer-tg-one", "customer-tg-two")
    assert [(r["priority"], r["path_pattern"], r["target_group"]) for r in prod["rules"]] == [
        (10, "/admin/*", "employee-tg-two"), (20, "/inventory/*", "inventory-tg-two")]
    assert [r["target_group"] for r in test["rules"]] == ["employee-tg-one", "inventory-tg-one"]


ONE, TWO, OTHER = ("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/%s/1" % n
                   for n in ("customer-tg-one", "customer-tg-two", "employee-tg-one"))


@pytest.mark.parametrize("actions, expected", [
    ([{"Type": "forward", "TargetGroupArn": TWO}], True),
    ([{"Type": "forward", "TargetGroupArn": ONE}], True),  # CodeDeploy's switch
    ([{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": ONE, "Weight": 1}]}}], True),
    ([{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": ONE, "Weight": 90},
                                                             {"TargetGroupArn": TWO, "Weight": 10}]}}], True),
    ([{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": ONE, "Weight": 1},
                                                             {"TargetGroupArn": OTHER, "Weight": 0}]}}], True),
    ([{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": ONE, "Weight": 1},
                                                             {"TargetGroupArn": OTHER, "Weight": 1}]}}], False),
    ([{"Type": "forward", "TargetGroupArn": OTHER}], False),
    ([{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}], False),
    ([], False),
])
def test_either_group_of_the_pair_is_converged(actions, expected):
    assert _alb.converged(actions, [TWO, ONE]) is expected


def test_plan_rules_keeps_switched_rules_and_extra_conditions():
    desired = [dict(priority=10, path_pattern="/admin/*", service="employee", target_group="employee-tg-two",
                    alternate="employee-tg-one")]
    arns = {"employee-tg-two": "arn-two", "employee-tg-one": "arn-one"}
    switched = {"RuleArn": "r1", "Priority": "10", "Actions": [{"Type": "forward", "TargetGroupArn": "arn-one"}],
                "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*"]}},
                               {"Field": "source-ip", "SourceIpConfig": {"Values": ["203.0.113.7/32"]}}]}
    stray = {"RuleArn": "r2", "Priority": "5", "Actions": [{"Type": "forward", "TargetGroupArn": "arn-two"}],
             "Conditions": [{"Field": "path-pattern", "Values": ["/old/*"]}]}
    plan = _alb.plan_rules([switched, stray], desired, arns, purge=True)
    assert plan == dict(delete=[stray], modify=[], priorities=[], create=[], sources=[])
    assert _alb.plan_rules([stray], desired, arns, purge=False) == dict(delete=[], modify=[], priorities=[], sources=[],
                                                                        create=desired)
    moved = dict(switched, Priority="30", Actions=[{"Type": "forward", "TargetGroupArn": "arn-else"}])
    plan = _alb.plan_rules([moved], desired, arns, purge=True)
    assert plan["modify"] == [(moved, desired[0])] and plan["priorities"] == [(moved, 10)]


ADMIN = dict(priority=10, path_pattern="/admin/*", service="employee", target_group="employee-tg-two",
             alternate="employee-tg-one")
WEIGHTED = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
    {"TargetGroupArn": "arn-one", "Weight": 90}, {"TargetGroupArn": "arn-two", "Weight": 10}]}}]
TAG = "cloudlab:source-ip"


def admin_rule(*sources):
    conditions = [{"Field": "path-pattern", "Values": ["/admin/*"], "PathPatternConfig": {"Values": ["/admin/*"]}}]
    if sources:
        conditions.append({"Field": "source-ip", "Values": list(sources), "SourceIpConfig": {"Values": list(sources)}})
    return {"RuleArn": "r1", "Priority": "10", "Actions": WEIGHTED, "Conditions": conditions}


def sources_of(rule, want, tags=None):
    arns = {"employee-tg-two": "arn-two", "employee-tg-one": "arn-one"}
    plan = _alb.plan_rules([rule], [want], arns, purge=True, tags={"r1": tags} if tags is not None else None)
    assert plan["modify"] == [] and plan["delete"] == [] and plan["create"] == []  # the weighted forward stays
    return plan["sources"]


def test_source_cidrs_add_a_source_ip_condition_and_tag():
    (found,) = sources_of(admin_rule(), dict(ADMIN, source_cidrs=["203.0.113.7/32"]), {})
    rule, want, plan = found
    assert plan["conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*"]}},
                                  {"Field": "source-ip", "SourceIpConfig": {"Values": ["203.0.113.7/32"]}}]
    assert plan["add_tags"] == {TAG: "203.0.113.7/32"} and plan["remove_tags"] == []


def test_a_converged_source_condition_is_left_alone():
    assert sources_of(admin_rule("203.0.113.7/32"), dict(ADMIN, source_cidrs=["203.0.113.7/32"]),
                      {TAG: "203.0.113.7/32"}) == []


def test_a_different_source_condition_is_set_to_the_wanted_cidrs():
    (found,) = sources_of(admin_rule("198.51.100.0/24"), dict(ADMIN, source_cidrs=["203.0.113.7/32"]),
                          {TAG: "198.51.100.0/24"})
    assert _alb.source_ips(found[2]["conditions"]) == ["203.0.113.7/32"]
    assert found[2]["add_tags"] == {TAG: "203.0.113.7/32"}


def test_removing_the_setting_removes_what_the_collection_set():
    (found,) = sources_of(admin_rule("203.0.113.7/32"), dict(ADMIN, source_cidrs=[]), {TAG: "203.0.113.7/32"})
    assert found[2]["conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*"]}}]
    assert found[2]["remove_tags"] == [TAG]


def test_a_source_condition_made_by_hand_stays():
    """The lab's own 9.1, or a rule of an older collection: no tag, not the collection's to remove."""
    assert sources_of(admin_rule("203.0.113.7/32"), dict(ADMIN, source_cidrs=[]), {}) == []
    assert sources_of(admin_rule("203.0.113.7/32"), dict(ADMIN, source_cidrs=[])) == []
    (found,) = sources_of(admin_rule("198.51.100.9/32"), dict(ADMIN, source_cidrs=[]), {TAG: "203.0.113.7/32"})
    assert found[2]["kept"] == ["198.51.100.9/32"] and found[2]["conditions"] is None
    assert found[2]["remove_tags"] == []


def test_a_new_rule_carries_its_source_condition():
    assert _alb.rule_conditions(dict(ADMIN, source_cidrs=["203.0.113.7/32"])) == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*"]}},
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["203.0.113.7/32"]}}]
    assert _alb.rule_conditions(dict(ADMIN, source_cidrs=[])) == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/admin/*"]}}]
    routes = _alb.routes([{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*",
                                                 "source_cidrs": ["203.0.113.7/32"]}], {"production": 80, "test": 8080})
    assert [r["rules"][0]["source_cidrs"] for r in routes] == [["203.0.113.7/32"], ["203.0.113.7/32"]]


def test_the_diff_shows_a_rule_s_sources():
    view = _alb.listener_view({"Protocol": "HTTP", "Port": 80, "DefaultActions": []}, [admin_rule("203.0.113.7/32")])
    assert list(view["rules"]) == ["10 /admin/* from 203.0.113.7/32"]
