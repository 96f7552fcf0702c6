"""What a followed release says (plugins/module_utils/_release.py): timeline, percent, traffic, its one line."""

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _release
from ansible_collections.cloudlab.microservices.plugins.module_utils._checks import release as checks

ONE, TWO, OTHER = "arn:tg/employee-tg-one", "arn:tg/employee-tg-two", "arn:tg/customer-tg-one"
GROUPS = {ONE: "employee-tg-one", TWO: "employee-tg-two"}


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_timeline_keeps_a_line_per_change_not_per_poll():
    clock = Clock()
    timeline = _release.Timeline(clock)
    assert timeline.observe("Source.Image", "InProgress")
    clock.now += 5
    assert not timeline.observe("Source.Image", "InProgress")
    assert not timeline.observe("traffic shift", "")
    clock.now += 2.5
    assert timeline.observe("Source.Image", "Succeeded (Image tag: latest)")
    assert timeline.lines() == ["+0.0s Source.Image: InProgress", "+7.5s Source.Image: Succeeded (Image tag: latest)"]


def test_green_percent_and_shift_line():
    target = {"taskSetsInfo": [{"taskSetLabel": "Blue", "trafficWeight": 70.0},
                               {"taskSetLabel": "Green", "trafficWeight": 30.0}]}
    assert _release.green_percent(target) == 30
    assert _release.green_percent({"taskSetsInfo": [{"taskSetLabel": "Blue", "trafficWeight": 100.0}]}) is None
    assert _release.shift_state(30, "CodeDeployDefault.ECSLinear10PercentEvery1Minutes") == (
        "30% of traffic on the replacement task set (CodeDeployDefault.ECSLinear10PercentEvery1Minutes)")
    assert _release.shift_state(None, "x") == ""


def test_traffic_in_percent_per_listener_weighted_and_plain():
    listeners = [{"ListenerArn": "l80", "Port": 80}, {"ListenerArn": "l8080", "Port": 8080}]
    rules = {
        "l80": [{"Actions": [{"Type": "forward", "TargetGroupArn": OTHER}]},
                {"Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                    {"TargetGroupArn": ONE, "Weight": 90}, {"TargetGroupArn": TWO, "Weight": 10}]}}]}],
        "l8080": [{"Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": ONE, "Weight": 0}, {"TargetGroupArn": TWO, "Weight": 1}]}}]}],
    }
    where = _release.traffic(listeners, rules, GROUPS)
    assert where == {80: {"employee-tg-one": 90, "employee-tg-two": 10}, 8080: {"employee-tg-two": 100}}
    assert _release.traffic_line(where) == (
        "listener :80 -> employee-tg-one 90% / employee-tg-two 10%, listener :8080 -> employee-tg-two")


def test_actions_deployment_and_lifecycle():
    deploy = {"stageName": "Deploy", "actionName": "Deploy", "status": "Failed",
              "input": {"actionTypeId": {"provider": "CodeDeployToECS"}},
              "output": {"executionResult": {"externalExecutionId": "d-ABC", "errorDetails": {"message": "boom"}}}}
    assert _release.action_state(deploy) == "Failed (boom)"
    assert _release.deployment_of([{"actionName": "Image", "output": {}}, deploy]) == "d-ABC"
    events = [{"lifecycleEventName": "Install", "status": "Succeeded"},
              {"lifecycleEventName": "AllowTraffic", "status": "InProgress"},
              {"lifecycleEventName": "AfterAllowTraffic", "status": "Pending"}]
    assert _release.lifecycle_state(events) == "Install:Succeeded AllowTraffic:InProgress"


def test_execution_found_by_the_revision_it_took():
    old = [{"actionName": "Image", "revisionId": "sha256:a"}, {"actionName": "Source", "revisionId": "c1"}]
    summaries = [{"pipelineExecutionId": "new", "sourceRevisions": [{"actionName": "Image", "revisionId": "sha256:b"}]},
                 {"pipelineExecutionId": "old", "sourceRevisions": old}]
    assert _release.find_execution(summaries, "Image", "sha256:a")["pipelineExecutionId"] == "old"
    assert _release.find_execution(summaries, "Source", "c1")["pipelineExecutionId"] == "old"
    assert _release.find_execution(summaries, "Image", "sha256:c") is None


def test_one_line_of_each_ending():
    where = {80: {"employee-tg-one": 100}, 8080: {"employee-tg-one": 100}}
    failed = _release.outcome("employee", "Failed", "Essential container in task exited", where, "d-1")
    assert failed == ("release of employee Failed (deployment d-1): Essential container in task exited; traffic stayed "
                      "where it is: listener :80 -> employee-tg-one, listener :8080 -> employee-tg-one")
    assert _release.outcome("employee", "Succeeded", "", where, "").startswith("release of employee Succeeded: ")
    hint = _release.follow_hint("playbooks/release.yml -e release_service=employee", "e-1", "d-1", "p")
    assert "-e release_execution_id=e-1" in hint and "aws deploy get-deployment --deployment-id d-1" in hint
    assert "goes on in AWS" in _release.interrupted("employee", "Ctrl-C", "deployment d-1 InProgress", hint)
    assert "goes on in AWS" in _release.still_running("employee", 60, "deployment d-1 InProgress", hint)
    line = _release.rule_missing("update-employee-microservice", "update-employee-microservice-image", "Image",
                                 "sha256:a", 5)
    assert "rule update-employee-microservice-image (EventBridge) is missing" in line and "release_start" in line


def test_report_lines_end_with_traffic_and_answers():
    lines = _release.report_lines(["+0.0s execution e: Succeeded"], {80: {"employee-tg-two": 100}},
                                  {"80": {"url": "http://127.0.0.1:1/admin/suppliers", "answer": "employee version 2"}})
    assert lines[1:] == ["traffic: listener :80 -> employee-tg-two",
                         "listener :80 answers on http://127.0.0.1:1/admin/suppliers: employee version 2"]
    assert _release.said("employee", 200, "<h1>employee version 7</h1>") == "employee version 7"
    assert _release.said("employee", 503, "") == "HTTP 503"


def test_role_inputs_refused_before_anything_is_pushed(tmp_path):
    services = [{"name": "customer"}, {"name": "employee"}]
    assert checks.check({"release_service": "employee", "release_commit": "head"}, services) == []
    assert checks.check({"release_service": "employee", "release_stop": True}, services) == []
    problems = checks.check({"release_service": "supplier", "release_commit": "head"}, services)
    assert problems == ["release_service is supplier: not a service of the list (customer, employee)"]
    problems = checks.check({"release_service": "employee", "release_commit": "head", "release_image": "e:2"},
                            services)
    assert len(problems) == 1 and "release_image, release_commit are all set" in problems[0]
    problems = checks.check({"release_service": "employee", "release_archive": str(tmp_path / "none.tar")}, services)
    assert len(problems) == 1 and problems[0].startswith("release_archive is %s: " % (tmp_path / "none.tar"))
    assert checks.check({"release_service": "employee", "release_commit": "head", "release_timeout": 0},
                        services) == ["release_timeout is 0: it must be 1 second or more"]


def test_an_interrupted_follow_fails_with_one_line_saying_the_deployment_goes_on(monkeypatch):
    """Ctrl-C (KeyboardInterrupt) or SIGTERM inside the module: one failure line, not a trace."""
    import signal
    from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
    from ansible_collections.cloudlab.microservices.plugins.modules import release_follow as module

    class Following:
        service = "employee"
        where_now = "deployment d-1 InProgress, AllowTraffic:InProgress"

        def __init__(self, _module):
            self.result = {"execution_id": "e-1", "deployment_id": "d-1", "msg": "x"}

        def hint(self):
            return "ansible-playbook playbooks/release.yml -e release_execution_id=e-1"

        def fail_fields(self):
            return dict((k, v) for k, v in self.result.items() if k != "msg")

        def run(self):
            signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(module, "Release", Following)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(CloudlabError) as failed:
        module.release_follow(object())
    assert failed.value.message == (
        "following the release of employee was interrupted (SIGTERM) at deployment d-1 InProgress, "
        "AllowTraffic:InProgress; the deployment goes on in AWS: follow it with ansible-playbook "
        "playbooks/release.yml -e release_execution_id=e-1")
    assert signal.getsignal(signal.SIGTERM) == before

    def ctrl_c(_self):
        raise KeyboardInterrupt()

    monkeypatch.setattr(Following, "run", ctrl_c)
    with pytest.raises(CloudlabError) as failed:
        module.release_follow(object())
    assert "interrupted (Ctrl-C)" in failed.value.message and "goes on in AWS" in failed.value.message
