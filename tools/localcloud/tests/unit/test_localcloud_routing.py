"""How the local cloud's listener endpoints choose a rule, a target group and call a target healthy."""

import pytest

from localcloud import listeners, tasks


def request(path="/", method="GET", query="", headers=None, client="127.0.0.1"):
    return {"path": path, "method": method, "query": query, "headers": dict(headers or {}), "client": client}


class Action:
    def __init__(self, data):
        self.data = data


class Rule:
    def __init__(self, priority, conditions, target, is_default=False):
        self.priority, self.conditions, self.is_default = priority, conditions, is_default
        self.actions = [Action({"Type": "forward", "TargetGroupArn": target})]


class Listener:
    def __init__(self, rules, default):
        self.rules = dict(("r%d" % i, r) for i, r in enumerate(rules))
        self.default_actions = [Action({"Type": "forward", "TargetGroupArn": default})]


@pytest.mark.parametrize("glob,path,matched", [
    ("/admin/*", "/admin/suppliers", True),
    ("/admin/*", "/admin/", True),
    ("/admin/*", "/admin", False),
    ("/admin/*", "/Admin/suppliers", False),     # path patterns are case sensitive
    ("/a?c", "/abc", True),
    ("/a?c", "/abbc", False),
    ("/[x]", "/x", False),                       # brackets are plain characters, not a class
    ("/[x]", "/[x]", True),
    ("*.jpg", "/img/a.jpg", True),
])
def test_path_pattern(glob, path, matched):
    condition = {"Field": "path-pattern", "PathPatternConfig": {"Values": [glob]}}
    assert listeners.condition_matches(condition, request(path)) is matched


def test_conditions_of_other_fields():
    assert listeners.condition_matches({"Field": "path-pattern", "Values": ["/admin/*"]}, request("/admin/x"))
    assert listeners.condition_matches({"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.1/32"]}},
                                       request())
    assert not listeners.condition_matches({"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}},
                                           request())
    assert listeners.condition_matches({"Field": "host-header", "HostHeaderConfig": {"Values": ["*.Example.com"]}},
                                       request(headers={"host": "shop.example.com:8080"}))
    assert not listeners.condition_matches({"Field": "http-request-method",
                                            "HttpRequestMethodConfig": {"Values": ["POST"]}}, request())
    header = {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["blue*"]}}
    assert listeners.condition_matches(header, request(headers={"x-env": "blue-1"}))
    assert not listeners.condition_matches(header, request())
    query = {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}]}}
    assert listeners.condition_matches(query, request(query="a=1&v=2"))
    assert not listeners.condition_matches(query, request(query="v=3"))
    assert not listeners.condition_matches({"Field": "unknown-field", "Values": ["x"]}, request())


def test_rules_in_priority_order_then_default():
    listener = Listener([Rule("20", [{"Field": "path-pattern", "Values": ["/admin/*"]}], "late"),
                         Rule("10", [{"Field": "path-pattern", "Values": ["/admin/s*"]}], "early"),
                         Rule("5", [{"Field": "path-pattern", "Values": ["/admin/*"]},
                                    {"Field": "http-request-method", "Values": ["POST"]}], "posts")],
                        default="customer")
    assert listeners.choose_actions(listener, request("/admin/suppliers"))[0]["TargetGroupArn"] == "early"
    assert listeners.choose_actions(listener, request("/admin/other"))[0]["TargetGroupArn"] == "late"
    assert listeners.choose_actions(listener, request("/admin/x", "POST"))[0]["TargetGroupArn"] == "posts"
    assert listeners.choose_actions(listener, request("/"))[0]["TargetGroupArn"] == "customer"


def test_weighted_forward():
    action = {"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": "blue", "Weight": 90}, {"TargetGroupArn": "green", "Weight": 10}]}}
    assert listeners.forward_group(action, pick=lambda: 0.0) == "blue"
    assert listeners.forward_group(action, pick=lambda: 0.89) == "blue"
    assert listeners.forward_group(action, pick=lambda: 0.9) == "green"
    assert listeners.forward_group(action, pick=lambda: 0.999) == "green"
    only_green = {"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": "blue", "Weight": 0}, {"TargetGroupArn": "green", "Weight": 1}]}}
    assert listeners.forward_group(only_green, pick=lambda: 0.0) == "green"
    assert listeners.forward_group({"Type": "forward", "TargetGroupArn": "one"}) == "one"
    none = {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": "blue", "Weight": 0}]}}
    assert listeners.forward_group(none) is None


@pytest.mark.parametrize("status,codes,matched", [
    (200, "200", True), (302, "200", False), (302, "200,302", True), (301, "200-399", True),
    (404, "200-399", False), (200, " 200 , 204", True),
])
def test_matcher_codes(status, codes, matched):
    assert tasks.matches(status, codes) is matched


def test_health_check_of_a_closed_port():
    port = tasks.free_port()
    assert tasks.health_check(port, "/", "200")[:2] == ("unhealthy", "Target.FailedHealthChecks")
