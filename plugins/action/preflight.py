# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os

import yaml

from ansible.errors import AnsibleUndefinedVariable
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.cloudlab.microservices.plugins.module_utils._i18n import LANG_VARIABLE
from ansible_collections.cloudlab.microservices.plugins.module_utils._i18n import lang_problem
from ansible_collections.cloudlab.microservices.plugins.module_utils._inputs import missing_inputs_message
from ansible_collections.cloudlab.microservices.plugins.module_utils._inputs import required_inputs
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import ServiceError
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import check_services

# The collection's root (plugins/action/preflight.py is three levels down): where its sample inventories are.
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC_KEYS = ("type", "elements", "choices", "required", "default", "options", "no_log", "aliases")


def _bare_spec(options):
    """The argument spec of a role's options without docs-only keys."""
    out = {}
    for name, attrs in (options or {}).items():
        bare = dict((k, v) for k, v in attrs.items() if k in SPEC_KEYS)
        if "options" in bare:
            bare["options"] = _bare_spec(bare["options"])
        out[name] = bare
    return out


def load_role_spec(role_path, entry_point="main"):
    path = os.path.join(role_path, "meta", "argument_specs.yml")
    if not os.path.isfile(path):
        return {}
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    return (data.get("argument_specs", {}).get(entry_point) or {}).get("options") or {}


def role_checks(role):
    """The role's own rules (module_utils/_checks/<role>.py), or None."""
    try:
        return importlib.import_module(
            "ansible_collections.cloudlab.microservices.plugins.module_utils._checks.%s" % role).check
    except ImportError:
        return None


class ActionModule(ActionBase):
    """Refuse a role's bad input before anything changes, one line per problem, no module run."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("services", "service_defaults", "role", "roles"))

    def _value(self, task_vars, name, problems):
        if name not in task_vars:
            problems.append("%s is not set" % name)
            return None
        try:
            return self._templar.template(task_vars[name])
        except AnsibleUndefinedVariable as e:
            problems.append("%s is not defined: %s" % (name, e.message if hasattr(e, "message") else e))
            return None

    def _role_values(self, task_vars, role_path, problems, with_defaults):
        """The role's options as the role would see them: each set variable, else (a role checked from
        outside, `roles`) the role's own default from defaults/main.yml; validated against its spec."""
        options = load_role_spec(role_path)
        defaults = {}
        defaults_file = os.path.join(role_path, "defaults", "main.yml")
        if with_defaults and os.path.isfile(defaults_file):
            # Through the loader: its YAML is trusted as templates, as a role's defaults are.
            defaults = self._loader.load_from_file(defaults_file) or {}
        values = {}
        for name in options:
            if name in task_vars:
                values[name] = self._value(task_vars, name, problems)
            elif name in defaults:
                values[name] = self._value(defaults, name, problems)
        present = dict((k, v) for k, v in values.items() if v is not None)
        validation = ArgumentSpecValidator(_bare_spec(options)).validate(present)
        for error in validation.errors.errors:
            problems.append(str(error.msg if hasattr(error, "msg") else error))
        values.update(validation.validated_parameters)
        return values

    def _check(self, task_vars, role, values, services_var, service_defaults, problems):
        """The service list (checked, every key filled in) and the role's cross-variable rules; a bad list
        raises ServiceError."""
        services = None
        if services_var and not problems:
            raw = values[services_var] if services_var in values else self._value(task_vars, services_var, problems)
            if not problems:
                services = check_services(raw, variable=services_var,
                                          defaults=self._templar.template(service_defaults or {}))
        check = role_checks(role) if role else None
        if check is not None and not problems:
            problems.extend(check(values, services))
        return services

    def _check_roles(self, task_vars, roles, result):
        """Several roles' inputs from one task (a playbook's preflight), as each role checks them itself:
        its spec, its list `<role>_services`, its rules. In the roles' order, as the roles would run: the
        first role at fault is named with every problem of its inputs (a later role's input wired from it
        would only repeat the problem)."""
        checked = {}
        for role in roles:
            role_path = os.path.join(COLLECTION_ROOT, "roles", role)
            if not os.path.isfile(os.path.join(role_path, "meta", "argument_specs.yml")):
                result.update(failed=True, msg="Failed to validate the inputs: %s is not a role of this collection" % role)
                return result
            problems = []
            values = self._role_values(task_vars, role_path, problems, with_defaults=True)
            services_var = "%s_services" % role if "%s_services" % role in load_role_spec(role_path) else None
            try:
                services = self._check(task_vars, role, values, services_var, None, problems)
            except ServiceError as e:
                problems.append(str(e))
            if problems:
                result.update(failed=True, msg="Failed to validate the %s role's inputs: %s" % (role, "; ".join(problems)))
                return result
            checked[role] = {"services": services}
        result.update(roles=checked, services=None, msg="inputs checked: %s" % ", ".join(roles))
        return result

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        result["changed"] = False
        args = self._task.args
        services_var = args.get("services")
        role = args.get("role") or (task_vars.get("ansible_role_name") or "").split(".")[-1]
        role_path = task_vars.get("role_path") if args.get("role") is None else None
        problems = []

        # A playbook's own check (no role): the inputs every playbook takes from the inventory, named
        # with the sample inventories before anything else runs.
        if not role:
            unset = [name for name in required_inputs() + ([services_var] if services_var else [])
                     if name not in task_vars]
            if unset:
                result.update(failed=True, msg=missing_inputs_message(list(dict.fromkeys(unset)), COLLECTION_ROOT))
                return result

        if args.get("roles"):
            return self._check_roles(task_vars, list(args["roles"]), result)

        values = {}
        if role and role_path:
            values = self._role_values(task_vars, role_path, problems, with_defaults=False)
        try:
            services = self._check(task_vars, role, values, services_var, args.get("service_defaults"), problems)
        except ServiceError as e:
            result.update(failed=True, msg=str(e))
            return result

        # The language of the end-of-run summaries, refused here rather than after the run's changes.
        if LANG_VARIABLE in task_vars:
            lang = self._value(task_vars, LANG_VARIABLE, problems)
            if lang is not None and lang_problem(lang):
                problems.append(lang_problem(lang))

        if problems:
            where = ("the %s role's inputs" % role) if role else "the inputs"
            result.update(failed=True, msg="Failed to validate %s: %s" % (where, "; ".join(problems)))
            return result
        result["services"] = services
        result["msg"] = "inputs checked"
        return result
