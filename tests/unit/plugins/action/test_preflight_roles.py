"""The preflight action's `roles`: several roles' inputs checked from one task of a playbook, each as the
role checks them itself (spec, its `<role>_services` list, its rules), with the role's defaults for what
is not set. One ansible-playbook run on the controller, no cloud."""
import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT

BIN = os.path.dirname(sys.executable)
PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Check two roles' inputs
      cloudlab.microservices.preflight:
        roles: [codedeploy, pipelines]
      register: checked
    - name: Show what was checked
      ansible.builtin.debug:
        var: checked.roles
"""


def run(tmp_path, **extra):
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    extra_vars = dict({"cloudlab_aws_connection": {"region": "us-east-1"},
                       "microservices": [{"name": "customer"}],
                       "codedeploy_service_role_arn": "arn:aws:iam::123456789012:role/DeployRole",
                       "pipelines_role_arn": "arn:aws:iam::123456789012:role/PipelineRole",
                       "pipelines_account_id": "123456789012", "pipelines_region": "us-east-1"}, **extra)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play),
                           "-e", json.dumps(extra_vars)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    return proc.returncode, data["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.mark.parametrize("bad, variable", [
    ({"codedeploy_deployment_config": "CodeDeployDefault.Nope"}, "codedeploy_deployment_config"),
    ({"pipelines_services": [{"name": "Bad_Name"}]}, "pipelines_services"),
])
def test_a_bad_input_of_either_role_is_named(tmp_path, bad, variable):
    rc, result = run(tmp_path, **bad)
    assert rc != 0 and result["failed"], result
    role = variable.split("_")[0]
    assert result["msg"].startswith("Failed to validate the %s role's inputs: " % role), result["msg"]
    assert variable in result["msg"], result["msg"]


def test_every_role_is_checked_with_its_own_defaults(tmp_path):
    rc, result = run(tmp_path, codedeploy_services=[{"name": "customer"}, {"name": "employee", "port": 8081}])
    assert rc == 0, result
    # codedeploy_services as set; pipelines_services from the role's default (its list of the two samples).
    assert [(s["name"], s["port"]) for s in result["roles"]["codedeploy"]["services"]] == \
        [("customer", 8080), ("employee", 8081)]
    assert [s["name"] for s in result["roles"]["pipelines"]["services"]] == ["customer", "employee"]


def test_the_first_role_at_fault_is_named_with_every_problem_of_its_inputs(tmp_path):
    # A long application name is wrong for codedeploy, and for pipelines, whose application is wired from it:
    # named once, where it is set.
    rc, result = run(tmp_path, codedeploy_application_name="a" * 120, pipelines_application="a" * 120)
    assert rc != 0
    assert result["msg"].startswith("Failed to validate the codedeploy role's inputs: codedeploy_application_name "), \
        result["msg"]
    assert "pipelines" not in result["msg"], result["msg"]
