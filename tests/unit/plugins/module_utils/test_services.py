"""The rules of a `microservices` entry (module_utils/_services.py), each with a case that breaks it."""

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _services
check = _services.check_services
ServiceError = _services.ServiceError


def test_lab_services_are_filled_in():
    out = check([{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*",
                                        "health_check_path": "/admin/suppliers"}])
    assert [s["name"] for s in out] == ["customer", "employee"]
    cust = out[0]
    assert cust == {"name": "customer", "port": 8080, "cpu": "512", "memory": "1024",
                    "family": "customer-microservice", "environment": {}, "db_host": "",
                    "image": "customer:latest", "archive": "", "health_check_path": "/", "path_pattern": "",
                    "source_cidrs": [], "desired_count": None}
    assert out[1]["path_pattern"] == "/admin/*"
    assert out[1]["health_check_path"] == "/admin/suppliers"


def test_role_defaults_apply_to_entries_without_the_key():
    out = check([{"name": "a1", "port": 9000}, {"name": "b1"}], defaults={"port": 8081, "cpu": 1024, "memory": 2048})
    assert [s["port"] for s in out] == [9000, 8081]
    assert out[1]["cpu"] == "1024" and out[1]["memory"] == "2048"


def test_values_are_normalised():
    out = check([{"name": "svc", "port": "9090", "cpu": 256, "memory": "512", "image": "reg/x",
                  "environment": {"DEBUG": True, "N": 3}}])
    assert out[0]["port"] == 9090
    assert (out[0]["cpu"], out[0]["memory"]) == ("256", "512")
    assert out[0]["image"] == "reg/x:latest"
    assert out[0]["environment"] == {"DEBUG": "true", "N": "3"}


@pytest.mark.parametrize("services, words", [
    ("customer", ["must be a list", "got the str 'customer'"]),
    ([], ["at least one service"]),
    (["customer"], ["microservices[0] must be a dict"]),
    ([{"name": "customer", "prot": 9090}], ["unknown key 'prot'", "did you mean 'port'", "allowed keys: name, port"]),
    ([{"name": "customer", "zzzz": 1}], ["unknown key 'zzzz'; allowed keys"]),
    ([{"name": "Customer"}], ["name 'Customer'", "lower case"]),
    ([{"name": "c"}], ["name 'c'", "2 to 25"]),
    ([{"name": "a.b"}], ["name 'a.b'"]),
    ([{"name": "a_b"}], ["name 'a_b'"]),
    ([{"name": "x" * 26}], ["2 to 25"]),
    ([{"name": "svc-"}], ["name 'svc-'"]),
    ([{"name": "svc", "port": 0}], ["port 0 is not a number from 1 to 65535"]),
    ([{"name": "svc", "port": 70000}], ["port 70000"]),
    ([{"name": "svc", "port": "http"}], ["port 'http'"]),
    ([{"name": "svc", "port": True}], ["port True"]),
    ([{"name": "svc", "cpu": 300}], ["cpu 300 is not a Fargate size"]),
    ([{"name": "svc", "cpu": 256, "memory": 4096}], ["cpu 256 with memory 4096", "512 to 2048"]),
    ([{"name": "svc", "cpu": 8192, "memory": 18432}], ["memory for cpu 8192: 16384 to 61440 in steps of 4096"]),
    ([{"name": "svc", "family": "bad family"}], ["family 'bad family'"]),
    ([{"name": "svc", "environment": ["A=1"]}], ["environment must be a dict"]),
    ([{"name": "svc", "environment": {"1A": "x"}}], ["environment names '1A'"]),
    ([{"name": "svc", "environment": {"A": {"b": 1}}}], ["environment values of A"]),
    ([{"name": "svc", "db_host": 5}], ["db_host must be a string"]),
    ([{"name": "svc", "health_check_path": "admin"}], ["health_check_path 'admin' must start with '/'"]),
    ([{"name": "svc", "path_pattern": "admin/*"}], ["path_pattern 'admin/*' must start with '/'"]),
    ([{"name": "svc", "path_pattern": "/a b"}], ["path_pattern '/a b'"]),
    ([{"name": "svc"}, {"name": "svc"}], ["same name 'svc'"]),
    ([{"name": "s1", "family": "f"}, {"name": "s2", "family": "f"}], ["same task definition family 'f'"]),
    ([{"name": "s1", "path_pattern": "/a/*"}, {"name": "s2", "path_pattern": "/a/*"}], ["same path_pattern '/a/*'"]),
])
def test_refused_with_one_line_naming_the_variable(services, words):
    with pytest.raises(ServiceError) as err:
        check(services)
    msg = str(err.value)
    assert msg.startswith("Failed to validate microservices:")
    assert "\n" not in msg
    for word in words:
        assert word in msg


def test_message_names_the_variable_given():
    with pytest.raises(ServiceError, match=r"^Failed to validate ecr_repos_services: ecr_repos_services\[0\]"):
        check([{"name": "X"}], variable="ecr_repos_services")


def test_every_problem_is_reported_at_once():
    with pytest.raises(ServiceError) as err:
        check([{"name": "svc", "port": 0, "cpu": 1}, {"name": "BAD"}])
    msg = str(err.value)
    assert "port 0" in msg and "cpu 1" in msg and "name 'BAD'" in msg


def test_fargate_table_matches_aws_documented_bounds():
    sizes = _services.FARGATE_SIZES
    assert sizes["256"] == [512, 1024, 2048]
    assert sizes["4096"][0] == 8192 and sizes["4096"][-1] == 30720
    assert sizes["16384"][-1] == 122880
    assert _services.fargate_size_problem("512", "1024") is None
    assert "refuses" in _services.fargate_size_problem("512", "5120")


def test_source_cidrs_are_checked_and_normalised():
    out = check([{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*",
                                        "source_cidrs": ["203.0.113.7/32", "2001:DB8::/32", "203.0.113.7/32"]}])
    assert out[1]["source_cidrs"] == ["203.0.113.7/32", "2001:db8::/32"]


@pytest.mark.parametrize("value, expected", [
    ("203.0.113.7/32", "must be a list of CIDRs"),
    (["203.0.113.7"], "'203.0.113.7'"),          # no prefix length
    (["203.0.113.7/24"], "'203.0.113.7/24'"),    # host bits set
    (["300.0.0.1/32"], "'300.0.0.1/32'"),
    ([7], "7"),
    (["10.0.0.%d/32" % i for i in range(5)], "at most 5 condition values and the path pattern takes one, so at most 4"),
])
def test_bad_source_cidrs_are_refused_naming_the_variable(value, expected):
    with pytest.raises(ServiceError) as err:
        check([{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*", "source_cidrs": value}])
    assert "microservices[1] (service employee): source_cidrs" in str(err.value)
    assert expected in str(err.value)


def test_four_source_cidrs_fit_in_a_rule():
    out = check([{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*",
                                        "source_cidrs": ["10.0.0.%d/32" % i for i in range(4)]}])
    assert len(out[1]["source_cidrs"]) == 4


@pytest.mark.parametrize("value, expected", [(3, 3), ("2", 2), (0, 0), (None, None)])
def test_desired_count_is_a_count_or_unset(value, expected):
    assert check([{"name": "customer", "desired_count": value}])[0]["desired_count"] == expected


@pytest.mark.parametrize("value", [-1, 5001, True, "three", 1.5])
def test_bad_desired_count_is_refused(value):
    with pytest.raises(ServiceError) as err:
        check([{"name": "customer", "desired_count": value}])
    assert "microservices[0] (service customer): desired_count %r must be a whole number from 0 to 5000" % (
        value,) in str(err.value)
