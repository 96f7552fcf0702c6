"""The phase9_services filter: Phase 9's settings on the one service list, every bad input named."""
import importlib

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab


class _Lazy:
    """The filter module, imported in the test (as test_prune_plan does: ansible's plugin side at collection time
    changes what other unit tests see of ansible's warnings)."""

    def __getattr__(self, name):
        return getattr(importlib.import_module("ansible_collections.cloudlab.microservices.plugins.filter.phase9"),
                       name)


phase9 = _Lazy()
AnsibleFilterError = Exception

LAB = [{"name": "customer"}, {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}]


def test_the_lab_admin_rule_limited_and_customer_scaled():
    out = phase9.phase9_services(LAB, ["203.0.113.7/32"])
    assert out == [{"name": "customer", "desired_count": 3},
                   {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*",
                    "source_cidrs": ["203.0.113.7/32"]}]
    # The user's list is not changed.
    assert LAB == [{"name": "customer"},
                   {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}]


def test_the_names_are_the_model_s_unless_given():
    assert (phase9.phase9_service("", "admin"), phase9.phase9_service("", "scaled")) == (
        _lab.PHASE9_ADMIN_SERVICE, _lab.PHASE9_SCALED_SERVICE)
    assert phase9.phase9_service("orders", "admin") == "orders"
    with pytest.raises(AnsibleFilterError, match="which must be one of admin, scaled"):
        phase9.phase9_service("", "other")
    mine = [{"name": "web"}, {"name": "admin", "path_pattern": "/a/*"}, {"name": "other", "path_pattern": "/o/*"}]
    out = phase9.phase9_services(mine, ["2001:db8::/64"], "2", "admin", "web")
    assert out == [{"name": "web", "desired_count": 2},
                   {"name": "admin", "path_pattern": "/a/*", "source_cidrs": ["2001:db8::/64"]}, mine[2]]


def test_a_rerun_value_replaces_the_entry_s_own():
    entries = [{"name": "customer", "desired_count": 1},
               {"name": "employee", "path_pattern": "/admin/*", "source_cidrs": ["198.51.100.0/24"]}]
    out = phase9.phase9_services(entries, ["127.0.0.1/32"], 0)
    assert (out[0]["desired_count"], out[1]["source_cidrs"]) == (0, ["127.0.0.1/32"])


@pytest.mark.parametrize("cidrs, count, names, expected", [
    (None, 3, ("", ""), "phase9_admin_cidrs is not set: give the addresses let into the admin pages"),
    ([], 3, ("", ""), "phase9_admin_cidrs is not set"),
    (["203.0.113.7"], 3, ("", ""), "phase9_admin_cidrs: '203.0.113.7': each must be an IPv4 or IPv6 network"),
    ("203.0.113.7/32", 3, ("", ""), "phase9_admin_cidrs: must be a list of CIDRs"),
    (["10.0.0.%d/32" % i for i in range(5)], 3, ("", ""), "phase9_admin_cidrs: has 5 CIDRs"),
    (["203.0.113.7/32"], -1, ("", ""), "phase9_customer_count is -1: it must be a whole number from 0 to 5000"),
    (["203.0.113.7/32"], "many", ("", ""), "phase9_customer_count is 'many'"),
    (["203.0.113.7/32"], 3, ("orders", ""), "phase9_admin_service is orders: not a service of microservices "
                                            "(customer, employee)"),
    (["203.0.113.7/32"], 3, ("customer", ""), "phase9_admin_service and phase9_scaled_service are both customer"),
])
def test_bad_inputs_are_refused_by_variable(cidrs, count, names, expected):
    with pytest.raises(AnsibleFilterError) as caught:
        phase9.phase9_services(LAB, cidrs, count, *names)
    assert str(caught.value).startswith("Failed to validate Phase 9's inputs, nothing changed: ")
    assert expected in str(caught.value)


def test_every_problem_in_one_error():
    with pytest.raises(AnsibleFilterError) as caught:
        phase9.phase9_services(LAB, None, 9999, "x", "")
    assert str(caught.value).count("; ") == 2
    assert type(caught.value).__name__ in ("AnsibleFilterError", "AnsibleTemplatePluginError")


def test_not_a_service_list():
    with pytest.raises(AnsibleFilterError, match="microservices must be the service list"):
        phase9.phase9_services("customer", ["203.0.113.7/32"])
