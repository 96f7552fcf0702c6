"""One lab per inventory: the playbooks wire one setting, ``cloudlab_lab``, to every role's lab.

Each role that tags what it makes takes its lab as a variable of its own (``<role>_lab``), while CodeDeploy and the
pipelines tag with the CodeDeploy application name. ``playbooks/vars/lab.yml`` wires all of them from
``cloudlab_lab``, and every playbook that runs one of these roles loads it, so every resource of one lab carries
the same ``cloudlab:lab``.
"""
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
