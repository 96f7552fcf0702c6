"""The helpers of the collection's tests, imported one way (``from helpers import ...``; tests/ is on pytest's
path as the folder of the top conftest.py): the checkout's paths, running a playbook and reading what it showed
(its recap, failures, changed tasks, the summaries of Phases 5 to 8), git, a module run in-process with stubbed
clients. ``helpers.ownership`` reads back the lab's ownership tags. The fixtures are in tests/conftest.py, the
local cloud's (``local_cloud``, ``cloud``, ``dockerd``, the boto3 lab) in the plugin localcloud.testing.
"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
LAB_ENVIRONMENT = "playbooks/lab_environment.yml"


def examples_env(env):
    """`env` for `python -m examples.<module>` run from the checkout: the collection found through .collections."""
    paths = [os.path.join(ROOT, ".collections")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    return dict(env, PYTHONPATH=os.pathsep.join(paths))


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


def summary(result, phase):
    """The facts of the summary of Phase `phase` (5 to 8) that its playbook shows last (`phase<N>_summary`)."""
    return shown_summary(result, "phase%s_summary" % phase)


def task_results(result, name_part):
    """Every host result of the tasks whose name contains `name_part`, from the JSON callback."""
    return [task["hosts"]["localhost"] for play in result.data()["plays"] for task in play["tasks"]
            if name_part in task["task"]["name"] and "localhost" in task["hosts"]]


def task_result(result, name_part):
    """The host result of the one task whose name contains `name_part`."""
    (found,) = task_results(result, name_part)
    return found


def changed_count(result):
    """How many tasks of the run's host changed something (its recap)."""
    return result.stats()["localhost"]["changed"]


def git(*args, cwd=None, env=None, strip=True):
    """`git <args>` in `cwd` (with `env` added to this process's environment); its output, stripped unless told."""
    out = subprocess.run(["git"] + list(args), cwd=cwd, env=dict(os.environ, **(env or {})), check=True,
                         capture_output=True, text=True).stdout
    return out.strip() if strip else out


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
