"""Every role's defaults and meta/argument_specs.yml agree.

Ansible validates role input against the spec, but it never compares the
spec's defaults with defaults/main.yml: the two drift silently. These tests
read both files for every role under roles/ (new roles are picked up without
touching this file) and fail on the first disagreement.
"""
import os

import pytest

from helpers import ROOT
import yaml

ROLES_DIR = os.path.join(ROOT, "roles")


def load_yaml(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def role_dirs(base=ROLES_DIR):
    if not os.path.isdir(base):
        return []
    return sorted(os.path.join(base, name) for name in os.listdir(base)
                  if os.path.isdir(os.path.join(base, name, "tasks")))


def main_options(role_dir):
    spec = load_yaml(os.path.join(role_dir, "meta", "argument_specs.yml"))
    assert spec, "%s has no meta/argument_specs.yml" % role_dir
    entry = (spec.get("argument_specs") or {}).get("main")
    assert entry is not None, "%s: meta/argument_specs.yml has no entry point `main`" % role_dir
    return entry.get("options") or {}


def defaults(role_dir):
    return load_yaml(os.path.join(role_dir, "defaults", "main.yml")) or {}


def walk_options(options, prefix=""):
    """Yield (dotted name, option) for options and their sub-options."""
    for name, option in sorted(options.items()):
        yield prefix + name, option
        yield from walk_options(option.get("options") or {}, prefix + name + ".")


def spec_problems(role_dir):
    """Every way the role's defaults and spec disagree, as readable lines."""
    problems = []
    options = main_options(role_dir)
    values = defaults(role_dir)
    for name, value in values.items():
        if name not in options:
            problems.append("defaults/main.yml sets %s, which meta/argument_specs.yml does not list" % name)
        elif "default" not in options[name]:
            problems.append("%s: defaults/main.yml gives %r, the spec gives no default" % (name, value))
        elif options[name]["default"] != value:
            problems.append("%s: defaults/main.yml gives %r, the spec %r"
                            % (name, value, options[name]["default"]))
    for name, option in options.items():
        if "default" in option and name not in values:
            problems.append("%s: the spec gives default %r, defaults/main.yml does not set it"
                            % (name, option["default"]))
    for name, option in walk_options(options):
        if not option.get("description"):
            problems.append("%s has no description in meta/argument_specs.yml" % name)
    return problems


ROLES = role_dirs()


def test_there_are_roles_to_check():
    assert ROLES, "no role under %s: the checks below would pass vacuously" % ROLES_DIR


@pytest.mark.parametrize("role_dir", ROLES, ids=[os.path.basename(r) for r in ROLES])
def test_defaults_and_argument_specs_agree(role_dir):
    problems = spec_problems(role_dir)
    assert not problems, "roles/%s:\n  %s" % (os.path.basename(role_dir), "\n  ".join(problems))


# The checker itself, on small roles made to drift in each way it must catch.

def make_role(tmp_path, defaults_text, options):
    role = tmp_path / "roles" / "demo"
    (role / "tasks").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "defaults").mkdir()
    (role / "tasks" / "main.yml").write_text("---\n[]\n")
    (role / "defaults" / "main.yml").write_text(defaults_text)
    (role / "meta" / "argument_specs.yml").write_text(
        yaml.safe_dump({"argument_specs": {"main": {"options": options}}}))
    return str(role)


GOOD = {"demo_port": {"type": "int", "default": 8080, "description": "Port."},
        "demo_names": {"type": "list", "elements": "str", "default": ["a", "b"],
                       "description": "Names."},
        "demo_services": {"type": "list", "elements": "dict", "required": True,
                          "description": "Services.",
                          "options": {"name": {"type": "str", "description": "Name."}}}}


def test_checker_accepts_agreeing_role(tmp_path):
    role = make_role(tmp_path, "demo_port: 8080\ndemo_names: [a, b]\n", GOOD)
    assert spec_problems(role) == []
    assert role_dirs(str(tmp_path / "roles")) == [role]


@pytest.mark.parametrize("defaults_text, options, expected", [
    ("demo_port: 8080\ndemo_names: [a, b]\ndemo_extra: 1\n", GOOD, "demo_extra"),
    ("demo_port: 8081\ndemo_names: [a, b]\n", GOOD, "demo_port"),
    ("demo_port: 8080\ndemo_names: [b, a]\n", GOOD, "demo_names"),
    ("demo_port: 8080\n", GOOD, "demo_names: the spec gives default"),
    ("demo_port: 8080\ndemo_names: [a, b]\ndemo_services: []\n", GOOD, "demo_services: defaults"),
    ("demo_port: 8080\ndemo_names: [a, b]\n",
     dict(GOOD, demo_port={"type": "int", "default": 8080}), "demo_port has no description"),
    ("demo_port: 8080\ndemo_names: [a, b]\n",
     dict(GOOD, demo_services=dict(GOOD["demo_services"], options={"name": {"type": "str"}})),
     "demo_services.name has no description"),
], ids=["unlisted", "default-differs", "list-order", "spec-only-default", "spec-without-default",
        "no-description", "sub-option-no-description"])
def test_checker_catches_drift(tmp_path, defaults_text, options, expected):
    problems = spec_problems(make_role(tmp_path, defaults_text, options))
    assert any(expected in p for p in problems), problems


def test_checker_requires_main_entry_point(tmp_path):
    role = make_role(tmp_path, "", GOOD)
    (tmp_path / "roles" / "demo" / "meta" / "argument_specs.yml").write_text(
        "argument_specs:\n  other:\n    options: {}\n")
    with pytest.raises(AssertionError, match="no entry point `main`"):
        spec_problems(role)
