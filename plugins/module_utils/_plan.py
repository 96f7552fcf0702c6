# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What each role of Phases 5 to 8 would change, planned from lab_info's one read.

``plan(services, p, lab, raw)`` returns, for every role of ``ROLES``, either a list of lines saying
what that role would change (empty: nothing, and the phase skips the role's write modules) or
``None`` when the read cannot tell (the role runs, and its module decides, as before).

A planner must never say "nothing" when the role's module would change something: each one compares
with the same rules the role's module applies (the functions of _alb, _ecs_services, _codedeploy,
_pipeline, _taskdef, ...), on what lab_info read (``lab``, its return value, and ``raw``, the API
objects it read), and answers ``None`` for any input it was not given or cannot compare.

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The roles of Phases 5 to 8, in the order the phases run them.
ROLES = ("ecr_repos", "image_push", "fargate_cluster", "codecommit_repo", "taskdef_appspec",
         "load_balancer", "ecs_services", "codedeploy", "pipelines")


# --- Phase 5 --------------------------------------------------------------------------------------------
def ecr_repos(services, p, lab, raw):
    return None


def image_push(services, p, lab, raw):
    return None


def fargate_cluster(services, p, lab, raw):
    return None


def codecommit_repo(services, p, lab, raw):
    return None


def taskdef_appspec(services, p, lab, raw):
    return None


# --- Phase 6 --------------------------------------------------------------------------------------------
def load_balancer(services, p, lab, raw):
    return None


# --- Phase 7 --------------------------------------------------------------------------------------------
def ecs_services(services, p, lab, raw):
    return None


# --- Phase 8 --------------------------------------------------------------------------------------------
def codedeploy(services, p, lab, raw):
    return None


def pipelines(services, p, lab, raw):
    return None


PLANNERS = dict(ecr_repos=ecr_repos, image_push=image_push, fargate_cluster=fargate_cluster,
                codecommit_repo=codecommit_repo, taskdef_appspec=taskdef_appspec, load_balancer=load_balancer,
                ecs_services=ecs_services, codedeploy=codedeploy, pipelines=pipelines)


def plan(services, p, lab, raw):
    """For each role of ROLES: what it would change (a list, empty for nothing) or None (cannot tell)."""
    return dict((role, PLANNERS[role](services, p, lab, raw)) for role in ROLES)
