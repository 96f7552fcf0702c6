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
    _VALID_ARGS = frozenset(("services", "service_defaults", "role"))

    def _value(self, task_vars, name, problems):
        if name not in task_vars:
            problems.append("%s is not set" % name)
            return None
        try:
            return self._templar.template(task_vars[name])
        except AnsibleUndefinedVariable as e:
            problems.append("%s is not defined: %s" % (name, e.message if hasattr(e, "message") else e))
            return None

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

        values = {}
        if role and role_path:
            options = load_role_spec(role_path)
            for name in options:
                if name in task_vars:
                    values[name] = self._value(task_vars, name, problems)
            present = dict((k, v) for k, v in values.items() if v is not None)
            validation = ArgumentSpecValidator(_bare_spec(options)).validate(present)
            for error in validation.errors.errors:
                problems.append(str(error.msg if hasattr(error, "msg") else error))
            values.update(validation.validated_parameters)

        services = None
        if services_var and not problems:
            raw = values[services_var] if services_var in values else self._value(task_vars, services_var, problems)
            if not problems:
                try:
                    services = check_services(raw, variable=services_var,
                                              defaults=self._templar.template(args.get("service_defaults") or {}))
                except ServiceError as e:
                    result.update(failed=True, msg=str(e))
                    return result

        check = role_checks(role) if role else None
        if check is not None and not problems:
            problems.extend(check(values, services))

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
