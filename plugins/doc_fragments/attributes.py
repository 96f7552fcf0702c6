# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Attribute descriptions shared by the modules of this collection.

    A module lists ``cloudlab.microservices.attributes`` and the parts that
    apply, then says in its own ``attributes`` block what ``support`` it has
    and, where it helps, how (``details``).
    """

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and predict the change it would make, making none.
  diff_mode:
    description: Will return details on what has changed (or would change in check mode) with C(--diff).
  idempotent:
    description: A second run with the same arguments reports no change and makes none.
"""

    ACTIONGROUP_AWS = r"""
options: {}
attributes:
  action_group:
    description: Takes its connection settings from C(module_defaults) of C(group/cloudlab.microservices.aws),
      which also reaches the modules of amazon.aws and community.aws.
    support: full
    membership:
      - cloudlab.microservices.aws
"""
