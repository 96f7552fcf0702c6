"""Shared fixtures: the local cloud's (pytest plugin localcloud.testing), and playbook runs.

Every suite that talks to AWS goes through `local_cloud` (or `cloud`, emptied per test); roles and playbooks
run with `run_playbook`, which points inventories/local at that cloud through LOCALCLOUD_ENDPOINT (the
inventory's only connection setting that varies). The boto3 lab of localcloud.testing declares its pipelines
with the collection's own rules (`lab_pipelines`).
"""
import json
import os
import subprocess
import sys
import types

import boto3
import pytest
from botocore.stub import Stubber

# The plugin's helpers are imported here, before pytest loads it: their asserts are rewritten all the same.
pytest.register_assert_rewrite("localcloud.testing")

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab, _pipeline  # noqa: E402
from localcloud.testing import require_binary  # noqa: F401,E402  pylint: disable=unused-import
from localcloud.testing.cloud import (  # noqa: F401,E402  pylint: disable=unused-import
    AWS_ENV, LocalCloud, add_fault, clear_faults, faults, free_port)

pytest_plugins = ["localcloud.testing"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def pytest_configure(config):  # pylint: disable=unused-argument
    """Every ansible command a test starts (with a cloud's env() or not) reads the checkout's ansible.cfg."""
    os.environ["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")


def examples_env(env):
    """`env` for `python -m examples.<module>` run from the checkout: the collection found through .collections."""
    paths = [os.path.join(ROOT, ".collections")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    return dict(env, PYTHONPATH=os.pathsep.join(paths))


@pytest.fixture
def lab_pipelines():
    """The boto3 lab's pipelines as the collection declares them (plugins/module_utils/_pipeline.py)."""
    return types.SimpleNamespace(name=_lab.pipeline, stages=_pipeline.lab_stages, rules=_pipeline.change_detection_rules)


class PlaybookResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.output = proc.stdout + proc.stderr

    def data(self):
        """The JSON callback's document."""
        return json.loads(self.stdout[self.stdout.index("{"):])

    def stats(self):
        """Per-host recap {host: {ok, changed, failed, ...}} from the JSON callback."""
        return self.data()["stats"]

    def __repr__(self):
        return "<PlaybookResult rc=%s>\n%s" % (self.rc, self.output[-6000:])


def run_playbook(cloud, playbook, extra_vars=None, check=False, diff=False,
                 tags=None, json_output=True, verbosity=0, args=(), env=None,
                 inventory="inventories/local", cwd=ROOT, timeout=900):
    """Run ansible-playbook against `cloud`; returns a PlaybookResult."""
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(ROOT, inventory), playbook]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if tags:
        cmd += ["--tags", ",".join(tags)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    cmd += list(args)
    run_env = cloud.env() if cloud is not None else dict(os.environ)
    if json_output:
        run_env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    run_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, env=run_env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return PlaybookResult(proc)


def changed_tasks(result):
    """Names of the tasks that reported a change, for a readable failure."""
    return [task["task"]["name"] for play in result.data()["plays"] for task in play["tasks"]
            if task["hosts"].get("localhost", {}).get("changed")]


def failure_messages(result):
    """Every `msg` of a failed task (loop items included), joined: what the learner reads."""
    try:
        data = result.data()
    except ValueError:
        return result.output
    out = []
    for play in data["plays"]:
        for task in play["tasks"]:
            host = task["hosts"].get("localhost", {})
            for res in [host] + host.get("results", []):
                if res.get("failed"):
                    out.append("%s: %s" % (task["task"]["name"], res.get("msg", "")))
    return "\n".join(out) or result.output


def shown_summary(result, key):
    """The `<key>` dict of a playbook's summary: the facts its summary keeps (phase5_summary, phase6_summary...,
    set by playbooks/tasks/phaseN_summary.yml) or a dict a debug task shows under that key."""
    for play in result.data()["plays"]:
        for task in play["tasks"]:
            host = task["hosts"].get("localhost", {})
            facts, msg = host.get("ansible_facts") or {}, host.get("msg")
            if key in facts:
                return facts[key]
            if isinstance(msg, dict) and key in msg:
                return msg[key]
    raise AssertionError("the playbook showed no %s:\n%s" % (key, result.output[-3000:]))


def shown_lines(result, phase):
    """The lines the summary of Phase `phase` (5 to 8) printed, in the run's cloudlab_lang."""
    for play in result.data()["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == "Show the summary of Phase %s" % phase:
                return task["hosts"]["localhost"]["msg"]
    raise AssertionError("the playbook showed no summary of Phase %s:\n%s" % (phase, result.output[-3000:]))


@pytest.fixture
def playbook(cloud):
    """`playbook("playbooks/x.yml", extra_vars={...})` on a clean local cloud."""
    def _run(path, **kwargs):
        return run_playbook(cloud, path, **kwargs)
    return _run


@pytest.fixture
def stubs(monkeypatch):
    """{service: Stubber}: the clients a module makes answer from botocore Stubbers (unit tests).

    amazon.aws's `boto3_conn` is patched, not `_aws.client()`: the stubbed client gets the collection's
    retry policy as any other, but a Stubber answers before botocore's retry handler runs (retries are
    tested through the local cloud's faults).
    `stubs[service]` (or the module asking for that service) makes the service's client and
    its Stubber, active, once. At teardown every stubbed answer must have been used.
    """
    aws_modules = pytest.importorskip("ansible_collections.amazon.aws.plugins.module_utils.modules")

    class Stubs(dict):
        def __missing__(self, service):
            client = boto3.client(service, region_name=AWS_ENV["AWS_DEFAULT_REGION"],
                                  aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
            stubber = self[service] = Stubber(client)
            stubber.activate()
            return stubber

    stubbers = Stubs()
    monkeypatch.setattr(aws_modules, "boto3_conn", lambda *_args, **kwargs: stubbers[kwargs["resource"]].client)
    yield stubbers
    unused = {}
    for service, stubber in stubbers.items():
        try:
            stubber.assert_no_pending_responses()
        except AssertionError as e:
            unused[service] = str(e)
    assert not unused, "stubbed answers the module never asked for: %s" % unused


def run_aws_module(main, args, capsys, region="us-east-1"):
    """Run a module's main() in this process with `args`; its JSON result (unit tests with stubbed clients)."""
    from ansible.module_utils import _internal, testing
    # A module runs as on a target host: once a test file has imported controller code
    # (ansible.errors, templating), ansible-core flags the process as the controller, and
    # warnings go to the display instead of the module's result.
    was_controller, _internal.is_controller = _internal.is_controller, False
    try:
        with testing.patch_module_args(dict(args, region=region)):
            with pytest.raises(SystemExit):
                main()
    finally:
        _internal.is_controller = was_controller
    return json.loads(capsys.readouterr().out)
