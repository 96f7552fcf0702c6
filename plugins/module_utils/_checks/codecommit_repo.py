# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of the codecommit_repo role's inputs that span variables (see _checks/__init__.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab


def check(values, services):
    problems = []
    remote = values.get("codecommit_repo_remote_url") or ""
    name = values.get("codecommit_repo_name")
    # With another remote, no CodeCommit repository is made: its name does not matter.
    if not remote and name is not None:
        if _lab.name_problem("codecommit", name) or name.endswith(".git"):
            problems.append("codecommit_repo_name is %r: a CodeCommit repository name is 1 to 100 letters, digits, "
                            "'.', '_' or '-', not ending in .git (the lab's is deployment)" % name)
    if remote and re.search(r"\s", remote):
        problems.append("codecommit_repo_remote_url is %r: a git URL holds no blank" % remote)
    description = values.get("codecommit_repo_description") or ""
    if len(description) > 1000:
        problems.append("codecommit_repo_description has %d characters: CodeCommit takes at most 1000"
                        % len(description))
    return problems
