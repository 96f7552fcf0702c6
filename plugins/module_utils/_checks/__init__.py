# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules of each role's inputs that a type or a choice cannot say.

One module per role, named like the role, with
``check(values, services) -> list of one-line problems``, where ``values``
holds the role's own variables (templated) and ``services`` the role's
service list already filled in by ``_services.check_services`` (or None when
the role takes no service list). The ``cloudlab.microservices.preflight``
action runs it after the role's argument spec.
"""
