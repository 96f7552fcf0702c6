# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The end-of-run summaries, in the learners' language: module_utils/_summary.py with the words of
module_utils/_i18n.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudlab.microservices.plugins.module_utils import _summary


def summary(facts, phase, lang="en", check_mode=False):
    try:
        return _summary.summary(facts, phase, lang, check_mode)
    except _summary.SummaryError as e:
        raise AnsibleFilterError(str(e))


class FilterModule(object):
    def filters(self):
        return {"summary": summary}
