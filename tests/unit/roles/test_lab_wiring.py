"""One lab per inventory: the playbooks wire one setting, ``cloudlab_lab``, to every role's lab.

Each role that tags what it makes takes its lab as a variable of its own (``<role>_lab``), while CodeDeploy and the
pipelines tag with the CodeDeploy application name. ``playbooks/vars/lab.yml`` wires all of them from
``cloudlab_lab``, and every playbook that runs one of these roles loads it, so every resource of one lab carries
the same ``cloudlab:lab``.
"""
import os
import re

import pytest

from helpers import ROOT
import yaml

PLAYBOOKS = os.path.join(ROOT, "playbooks")
LAB_VARS = os.path.join(PLAYBOOKS, "vars", "lab.yml")


def _load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _lab_variables():
    """Every role variable named <role>_lab in an argument spec, and the CodeDeploy application name."""
    names = ["codedeploy_application_name"]
    for role in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        spec = os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")
        if os.path.exists(spec):
            options = _load(spec)["argument_specs"]["main"].get("options", {})
            names += [name for name in options if name == role + "_lab"]
    return names


def _wired(extra):
    # ansible's templating is imported here, not at collection: importing it early changes what the unit tests
    # that run modules in process see of ansible's warnings.
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.template import trust_as_template
    variables = dict((k, trust_as_template(v)) for k, v in _load(LAB_VARS).items())
    variables.update(extra)
    templar = Templar(loader=DataLoader(), variables=variables)
    return dict((name, templar.template(variables[name])) for name in _lab_variables())


def test_every_roles_lab_is_wired():
    names = _lab_variables()
    assert {"ecr_repos_lab", "fargate_cluster_lab", "load_balancer_lab", "ecs_services_lab"} <= set(names)
    missing = [name for name in names if name not in _load(LAB_VARS)]
    assert missing == [], "not wired in playbooks/vars/lab.yml: %s" % missing


@pytest.mark.parametrize("extra, lab", [
    ({}, "microservices"),
    ({"cloudlab_lab": "lab-two"}, "lab-two"),
])
def test_one_setting_gives_every_role_the_same_lab(extra, lab):
    assert _wired(extra) == dict((name, lab) for name in _lab_variables())


def test_every_playbook_that_runs_a_tagging_role_loads_the_wiring():
    roles = set(re.sub(r"_(lab|application_name)$", "", name) for name in _lab_variables()) | {"pipelines"}
    lacking = []
    for name in sorted(os.listdir(PLAYBOOKS)):
        if not name.endswith(".yml"):
            continue
        text = open(os.path.join(PLAYBOOKS, name), encoding="utf-8").read()
        uses = [role for role in roles if re.search(r"cloudlab\.microservices\.%s\b" % role, text)]
        if uses and "vars/lab.yml" not in text:
            lacking.append((name, sorted(uses)))
    assert lacking == []


# lab_info's options that read_lab.yml fills from a role variable: not given (the variable not defined where the
# read runs, as in plan.yml, which only includes the Phase 7 and 8 roles), the option is the role's default.
LAB_INFO_DEFAULTS = {
    "image_tag": "pipelines_image_tag", "cluster_name": "fargate_cluster_requested_name",
    "stack_name": "fargate_cluster_stack_name", "repository": "codecommit_repo_name", "branch": "pipelines_branch",
    "load_balancer_name": "load_balancer_name", "security_group_name": "load_balancer_security_group_name",
    "production_port": "load_balancer_production_port", "test_port": "load_balancer_test_port",
    "application_name": "codedeploy_application_name", "artifact_bucket": "pipelines_artifact_bucket",
    "deployment_config": "codedeploy_deployment_config", "reroute_wait_minutes": "codedeploy_reroute_wait_minutes",
    "termination_wait_minutes": "codedeploy_termination_wait_minutes",
    "auto_rollback_events": "codedeploy_auto_rollback_events", "codedeploy_tags": "codedeploy_tags",
    "pipeline_type": "pipelines_type", "change_detection": "pipelines_change_detection",
    "events_role_arn": "pipelines_events_role_arn", "pipeline_tags": "pipelines_tags",
}


def _role_defaults():
    out = {}
    for role in os.listdir(os.path.join(ROOT, "roles")):
        path = os.path.join(ROOT, "roles", role, "defaults", "main.yml")
        if os.path.exists(path):
            out.update(_load(path) or {})
    return out


def test_lab_info_defaults_are_the_roles_defaults():
    with open(os.path.join(ROOT, "plugins", "modules", "lab_info.py"), encoding="utf-8") as handle:
        source = handle.read()
    options = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', source, re.S).group(1))["options"]
    defaults = _role_defaults()
    for option, variable in LAB_INFO_DEFAULTS.items():
        assert "default" in options[option], option
        assert options[option]["default"] == defaults[variable], (option, variable)
    # The wiring hands each of them over by that variable, so "not defined" is the only way to the default.
    with open(os.path.join(PLAYBOOKS, "tasks", "read_lab.yml"), encoding="utf-8") as handle:
        read = yaml.safe_load(handle)[0]["cloudlab.microservices.lab_info"]
    for option, variable in LAB_INFO_DEFAULTS.items():
        assert read[option] == "{{ %s | default(omit) }}" % variable, option
    # desired_count has no default: unset is the role's default too (each service's own count, else left alone).
    assert "ecs_services_desired_count" not in defaults and "default" not in options["desired_count"]
