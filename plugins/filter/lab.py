# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every name of the lab, from YAML: the model of module_utils/_lab.py, which a playbook reads instead of
composing a name itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab


def lab_names(services, settings=None):
    if not isinstance(services, (list, tuple)) or not all(isinstance(s, dict) and s.get("name") for s in services):
        raise AnsibleFilterError("lab_names: the input must be a service list, each a dict with a name (got %s)"
                                 % _lab.quote(services))
    return _lab.model(services, settings or {})


def lab_tags(tags, lab=None, service=None):
    if tags is not None and not isinstance(tags, dict):
        raise AnsibleFilterError("lab_tags: the input must be a dict of tags (got %s)" % _lab.quote(tags))
    return _lab.with_owner_tags(tags, lab, service)


def prune_plan(unlisted, images=False):
    if not isinstance(unlisted, dict):
        raise AnsibleFilterError("prune_plan: the input must be lab_info's ownership.unlisted, a dict (got %s)"
                                 % _lab.quote(unlisted))
    return _lab.prune_plan(unlisted, images)


class FilterModule(object):
    def filters(self):
        return {"lab_names": lab_names, "lab_tags": lab_tags, "prune_plan": prune_plan}
