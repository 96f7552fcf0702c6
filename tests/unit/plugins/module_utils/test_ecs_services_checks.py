"""Rules of the ecs_services role's inputs (module_utils/_checks/ecs_services.py)."""

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import ecs_services as checks
from ansible_collections.cloudlab.microservices.plugins.module_utils import _services

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/%s/0123456789abcdef"
SERVICES = _services.check_services([{"name": "customer"}, {"name": "employee"}])


def good():
    return {
        "ecs_services_cluster": "microservices-serverlesscluster",
        "ecs_services_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        "ecs_services_security_group_ids": ["sg-0123456789abcdef0"],
        "ecs_services_target_groups": dict(
            (s, {"one": {"name": s + "-tg-one", "arn": TG % (s + "-tg-one")},
                 "two": {"name": s + "-tg-two", "arn": TG % (s + "-tg-two")}}) for s in ("customer", "employee")),
        "ecs_services_desired_count": 1,
        "ecs_services_state": "present",
        "ecs_services_wait_timeout": 600,
    }


def test_the_lab_inputs_pass():
    assert checks.check(good(), SERVICES) == []


@pytest.mark.parametrize("count", [-1, 5001])
def test_desired_count_out_of_range(count):
    values = dict(good(), ecs_services_desired_count=count)
    (problem,) = checks.check(values, SERVICES)
    assert problem.startswith("ecs_services_desired_count is %s" % count)


def test_missing_target_group_pair_names_the_service_and_phase6():
    values = good()
    del values["ecs_services_target_groups"]["employee"]
    (problem,) = checks.check(values, SERVICES)
    assert "for service employee" in problem and "phase6.yml" in problem


def test_a_name_where_an_arn_belongs():
    values = good()
    values["ecs_services_target_groups"]["customer"]["two"]["arn"] = "customer-tg-two"
    (problem,) = checks.check(values, SERVICES)
    assert "ecs_services_target_groups.customer.two.arn is 'customer-tg-two'" in problem


def test_tg_one_may_be_missing():
    values = good()
    del values["ecs_services_target_groups"]["customer"]["one"]
    assert checks.check(values, SERVICES) == []


@pytest.mark.parametrize("name,value,expected", [
    ("ecs_services_subnet_ids", [], "ecs_services_subnet_ids is empty"),
    ("ecs_services_subnet_ids", ["PublicSubnet1"], "'PublicSubnet1', which is not subnet IDs"),
    ("ecs_services_security_group_ids", ["microservices-sg"], "'microservices-sg', which is not security group IDs"),
    ("ecs_services_security_group_ids", ["sg-0123456789abcdef0"] * 2, "lists 'sg-0123456789abcdef0' twice"),
    ("ecs_services_cluster", " ", "ecs_services_cluster is empty"),
    ("ecs_services_wait_timeout", -5, "ecs_services_wait_timeout is -5"),
])
def test_each_rule(name, value, expected):
    problems = checks.check(dict(good(), **{name: value}), SERVICES)
    assert len(problems) == 1 and expected in problems[0], problems


def test_ids_phase6_publishes_in_check_mode_pass():
    """'' is a target group or security group Phase 6 would create; the module decides on it."""
    values = good()
    values["ecs_services_target_groups"]["customer"]["two"]["arn"] = ""
    values["ecs_services_security_group_ids"] = [""]
    assert checks.check(values, SERVICES) == []


def test_absent_needs_no_network_or_target_groups():
    values = {"ecs_services_state": "absent", "ecs_services_cluster": "c", "ecs_services_desired_count": 1}
    assert checks.check(values, SERVICES) == []
